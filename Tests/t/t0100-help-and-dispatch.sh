#!/usr/bin/env bash
test_description='help and --version for every command, quilt <plumbing> dispatch, unknown commands, external quilt-<x>'
. "$(dirname "$0")/lib.sh"

porcelain="build push log list show ls cat diff verify install delete rollback config cache bundle"
plumbing="hash-object write-manifest cat-manifest rev-parse update-ref show-ref upload-blob fetch-blob"

test_expect_success 'every porcelain command has --help' '
	for c in $porcelain; do quilt $c --help >out 2>&1 && grep -q "USAGE:" out || return 1; done
'

test_expect_success 'every plumbing program has --help, also as quilt <name> (the same text, named as invoked)' '
	for c in $plumbing; do
		quilt-$c --help >out && grep -q "^USAGE: quilt-$c" out &&
		quilt $c --help >out2 && grep -q "^USAGE: quilt $c" out2 &&
		sed "s/quilt-$c/quilt $c/g" out >expect && test_cmp expect out2 || return 1
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

test_expect_success 'quilt --version, quilt-<name> --version' '
	echo "quilt 0.1.0" >expect &&
	quilt --version >out && test_cmp expect out &&
	quilt version >out && test_cmp expect out &&
	quilt build --version >out && test_cmp expect out &&
	for c in $plumbing; do
		echo "quilt-$c 0.1.0" >expect &&
		quilt-$c --version >out && test_cmp expect out &&
		quilt $c --version >out && test_cmp expect out || return 1
	done
'

test_expect_success 'quilt help <command> prints its help; an unknown one is a usage error' '
	quilt help build >out && grep -q "^USAGE: quilt build" out &&
	quilt help hash-object >out && grep -q "^USAGE: quilt hash-object" out &&
	quilt help >out && grep -q "^usage: quilt <command>" out &&
	test_must_fail --exit=64 quilt help nosuch >out 2>err &&
	test ! -s out && grep -q "^error: .nosuch. is not a quilt command" err && grep -q "^hint: " err
'

test_expect_success 'quilt help <name> asks an external quilt-<name> for its help' '
	printf "#!/bin/sh\necho external help \"\$@\"\n" >bin/quilt-hello && chmod +x bin/quilt-hello &&
	PATH="$PWD/bin:$PATH" quilt help hello >out &&
	echo "external help --help" >expect && test_cmp expect out
'

test_expect_success 'argument errors: one error line and a hint naming the command as invoked, exit 64' '
	test_must_fail --exit=64 quilt build 2>err &&
	printf "%s\n" "error: missing expected argument '"'"'<name>'"'"'" "hint: see '"'"'quilt build --help'"'"'" >expect &&
	test_cmp expect err &&
	test_must_fail --exit=64 quilt rev-parse --bogus x/y 2>err && grep -q "^hint: see .quilt rev-parse --help.$" err &&
	test_must_fail --exit=64 quilt-rev-parse --bogus x/y 2>err && grep -q "^hint: see .quilt-rev-parse --help.$" err &&
	test_must_fail --exit=64 quilt --bogus 2>err && grep -q "^error: unknown option .--bogus.$" err
'

test_done
