#!/usr/bin/env bash
test_description='QUILT_TRACE: dispatch, registry and workflow decisions, S3 requests and upload or reuse, to stderr or a file'
. "$(dirname "$0")/lib.sh"

test_expect_success 'setup' '
	mkdir d && echo a >d/a.txt && echo b >d/b.txt && make_file d/big.bin 4096
'

test_expect_success 'QUILT_TRACE=1: trace lines on stderr, stdout unchanged' '
	quilt build ns/p d >expect &&
	QUILT_TRACE=1 quilt build ns/p d >out 2>err &&
	test_cmp expect out &&
	grep -q "^[0-9][0-9]:[0-9][0-9]:[0-9][0-9]\.[0-9]\{6\} trace: built-in: quilt build ns/p d$" err &&
	grep -q " trace: registry file://.*/Quilt/packages (default_local_registry)$" err &&
	grep -q " trace: workflow: none (.* has no workflows config)$" err &&
	QUILT_TRACE=true quilt list --registry "$(local_registry)" 2>err >/dev/null &&
	grep -q " trace: registry file://.* (--registry)$" err
'

test_expect_success 'QUILT_TRACE=/abs/path appends to that file; stderr stays quiet' '
	QUILT_TRACE="$PWD/trace.log" quilt build ns/p d >/dev/null 2>err && test ! -s err &&
	QUILT_TRACE="$PWD/trace.log" quilt-rev-parse ns/p >/dev/null 2>err && test ! -s err &&
	grep -q "trace: built-in: quilt build ns/p d" trace.log &&
	grep -q "trace: built-in: quilt-rev-parse ns/p" trace.log
'

test_expect_success 'QUILT_TRACE off: 0, false, empty' '
	for v in 0 false ""; do QUILT_TRACE=$v quilt list 2>err >/dev/null && test ! -s err || return 1; done
'

test_expect_success 'a bad QUILT_TRACE is a warning, never a failure' '
	QUILT_TRACE=relative/file quilt list 2>err >out && grep -q "^warning: unknown QUILT_TRACE value" err &&
	test "$(cat out)" = ns/p && test ! -e relative &&
	QUILT_TRACE=/nonexistent/dir/trace quilt list 2>err >/dev/null && grep -q "^warning: cannot open" err
'

test_expect_success 'the workflow chosen is traced' '
	mkdir -p "$(local_registry)/.quilt/workflows" &&
	printf "version: \"1\"\nis_workflow_required: false\ndefault_workflow: w\nworkflows:\n  w:\n    name: W\n" \
		>"$(local_registry)/.quilt/workflows/config.yml" &&
	QUILT_TRACE=1 quilt build ns/p d 2>err >/dev/null &&
	grep -q " trace: workflow: .w. (default_workflow of file://.*config.yml)$" err &&
	QUILT_TRACE=1 quilt build ns/p d --workflow "" 2>err >/dev/null &&
	grep -q " trace: workflow: none (--workflow)$" err &&
	rm -r "$(local_registry)/.quilt/workflows"
'

test_expect_success 'an external quilt-<name> is traced as exec' '
	mkdir bin && printf "#!/bin/sh\nexit 0\n" >bin/quilt-hello && chmod +x bin/quilt-hello &&
	PATH="$PWD/bin:$PATH" QUILT_TRACE=1 quilt hello x 2>err &&
	grep -q " trace: exec: .*/bin/quilt-hello x$" err
'

bucket=trace-$$-$RANDOM
test_expect_success S3 'push: S3 requests, the registry, upload, then reuse (1 KiB and more) and keep' '
	s3_make_bucket "$bucket" --versioned &&
	QUILT_TRACE=1 quilt push ns/p d --registry "s3://$bucket" >/dev/null 2>err &&
	grep -q " trace: registry s3://$bucket (--registry)$" err &&
	grep -q " trace: S3 PutObject s3://$bucket/ns/p/a.txt → 200" err &&
	grep -q " trace: upload a.txt: file://.*/d/a.txt -> s3://$bucket/ns/p/a.txt?versionId=" err &&
	grep -q " trace: conflict check: remote latest of ns/p is none" err &&
	QUILT_TRACE=1 quilt push ns/p d --registry "s3://$bucket" --force >/dev/null 2>err &&
	grep -q " trace: reuse big.bin: file://.*/d/big.bin -> s3://$bucket/ns/p/big.bin?versionId=" err &&
	QUILT_TRACE=1 quilt push ns/p --from ns/p --registry "s3://$bucket" --message again >/dev/null 2>err &&
	grep -q " trace: keep a.txt at s3://$bucket/ns/p/a.txt?versionId=.*: already at its destination$" err &&
	! grep -q "AWS_SECRET\|Authorization\|Signature=" err
'

test_done
