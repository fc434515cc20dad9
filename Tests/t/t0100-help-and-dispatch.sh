#!/usr/bin/env bash
test_description='help for every command, quilt <plumbing> dispatch, unknown commands, external quilt-<x>'
. "$(dirname "$0")/lib.sh"

porcelain="build push log list show diff verify install delete config bundle"
plumbing="hash-object write-manifest cat-manifest rev-parse update-ref show-ref upload-blob fetch-blob"

test_expect_success 'every porcelain command has --help' '
	for c in $porcelain; do quilt $c --help >out 2>&1 && grep -q "USAGE:" out || return 1; done
'

test_expect_success 'every plumbing program has --help, also as quilt <name>' '
	for c in $plumbing; do
		quilt-$c --help >out && grep -q "USAGE:" out &&
		quilt $c --help >out2 && test_cmp out out2 || return 1
	done
'

test_expect_success 'quilt --help lists every command' '
	quilt --help >out &&
	for c in $porcelain $plumbing; do grep -q "^   $c " out || return 1; done
'

test_expect_success 'quilt with no command is a usage error' '
	test_must_fail --exit=64 quilt 2>err && grep -q "usage:" err
'

test_expect_success 'an unknown command is a usage error' '
	test_must_fail --exit=64 quilt frobnicate 2>err &&
	grep -q "error: .frobnicate. is not a quilt command" err
'

test_expect_success 'an unknown option is a usage error' '
	test_must_fail --exit=64 quilt-rev-parse --bogus x/y
'

test_expect_success 'quilt runs quilt-<name> from PATH for commands it does not know' '
	mkdir bin && printf "#!/bin/sh\necho external \"\$@\"\n" >bin/quilt-hello && chmod +x bin/quilt-hello &&
	PATH="$PWD/bin:$PATH" quilt hello a b >out &&
	echo "external a b" >expect && test_cmp expect out
'

test_expect_success 'quilt --version' 'quilt --version | grep -q "^quilt "'

test_done
