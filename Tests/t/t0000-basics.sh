#!/usr/bin/env bash
test_description='the test library itself'
. "$(dirname "$0")/lib.sh"

test_expect_success 'a passing test passes' 'true'

test_expect_success 'the trash directory is the working directory and HOME' '
	test "$PWD" = "$TRASH" &&
	test "$HOME" = "$TRASH" &&
	test "$XDG_DATA_HOME" = "$TRASH/.local/share" &&
	test "$XDG_CACHE_HOME" = "$TRASH/.cache" &&
	test "$QUILT_DISABLE_USAGE_METRICS" = true &&
	test "$QUILT_MINIMIZE_STDOUT" = true
'

test_expect_success 'the build directory comes first on PATH' '
	test "${PATH%%:*}" = "$QUILT_BUILD_DIR"
'

test_expect_success 'variables persist between tests, the directory does not' '
	persisted=yes && mkdir sub && cd sub
'
test_expect_success 'the next test sees them' 'test "$persisted" = yes && test "$PWD" = "$TRASH"'

test_expect_success 'test_must_fail accepts exit codes 1 to 125' '
	test_must_fail false &&
	test_must_fail sh -c "exit 2" &&
	test_must_fail sh -c "exit 64" &&
	test_must_fail sh -c "exit 125"
'

test_expect_success 'test_must_fail rejects success, crashes and missing programs' '
	! test_must_fail true 2>err &&
	grep "succeeded" err &&
	! test_must_fail sh -c "kill -SEGV \$\$" 2>err &&
	grep "signal 11" err &&
	! test_must_fail sh -c "exit 126" &&
	! test_must_fail sh -c "exit 127" &&
	! test_must_fail no-such-program-anywhere 2>err &&
	grep "not found" err
'

test_expect_success 'test_must_fail --exit=N wants exactly N' '
	test_must_fail --exit=2 sh -c "exit 2" &&
	test_must_fail --exit=65 sh -c "exit 65" &&
	! test_must_fail --exit=2 sh -c "exit 1" 2>err &&
	grep "expected 2" err &&
	! test_must_fail --exit=1 true
'

test_expect_success 'test_cmp compares files' '
	printf "a\nb\n" >expect &&
	printf "a\nb\n" >actual &&
	test_cmp expect actual &&
	printf "a\nc\n" >actual &&
	! test_cmp expect actual >diff &&
	grep "^+c" diff
'

test_expect_success 'make_file is deterministic and exact in size' '
	make_file one 1000 &&
	make_file two 1000 one &&
	make_file dir/three 8388609 &&
	make_file zeros 4097 zero &&
	cmp one two &&
	test $(wc -c <one) -eq 1000 &&
	test $(wc -c <dir/three) -eq 8388609 &&
	test $(wc -c <zeros) -eq 4097 &&
	test "$(tr -d "\0" <zeros | wc -c)" -eq 0 &&
	make_file four 1000 other &&
	! cmp -s one four
'

test_expect_success QUILT3 'quilt3_py imports quilt3 without telemetry' '
	quilt3_py -c "import os, quilt3; assert os.environ[\"QUILT_DISABLE_USAGE_METRICS\"] == \"true\"; print(quilt3.__version__)" >out &&
	grep "^8\.0\.0$" out
'

test_expect_success S3 'the S3 endpoint answers' '
	s3_make_bucket t0000-bucket &&
	quilt3_py -c "import boto3; print(len(boto3.client(\"s3\").list_buckets()[\"Buckets\"]))" >out &&
	test "$(cat out)" -ge 1
'

test_expect_success 'return 1 in a test body fails that test, and it is counted' '
	printf "%s\n" ". \"$REPO/Tests/t/lib.sh\"" \
		"test_expect_success \"loop\" \"for i in 1 2; do false || return 1; done\"" \
		"test_expect_success \"after\" true" test_done >child.sh &&
	QUILT_TEST_TRASH_ROOT="$TRASH" test_must_fail --exit=1 bash child.sh >child.out &&
	grep -q "^not ok 1 - loop" child.out && grep -q "^ok 2 - after" child.out &&
	grep -q "^# passed 1 failed 1$" child.out
'

test_set_prereq HAVE_IT
test_expect_success 'test_have_prereq checks every listed prerequisite' '
	test_have_prereq HAVE_IT &&
	! test_have_prereq HAVE_IT,NOT_SET &&
	! test_have_prereq NOT_SET
'

test_expect_success NOT_SET 'a test with a missing prerequisite is skipped' 'false'

test_done
