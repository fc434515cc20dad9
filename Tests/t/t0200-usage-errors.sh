#!/usr/bin/env bash
test_description='usage errors: an unparsable option value or environment setting is exit 64 with one line, before any work'
. "$(dirname "$0")/lib.sh"

test_expect_success 'setup' '
	mkdir d && echo a >d/a && h=$(quilt build ns/pkg d)
'

# usage_error CMD...: CMD exits 64 with exactly one line on stderr, an error: line.
usage_error() {
	test_must_fail --exit=64 "$@" 2>err || return 1
	cat err && test_line_count = 1 err && grep -q "^error: " err
}

test_expect_success 'a numeric setting that does not parse, or is out of range, is refused by name' '
	for setting in QUILT_MANIFEST_MAX_RECORD_SIZE=-5 QUILT_MANIFEST_MAX_RECORD_SIZE=abc QUILT_MANIFEST_MAX_RECORD_SIZE=0 \
		QUILT_TRANSFER_MAX_CONCURRENCY=abc QUILT_TRANSFER_MAX_CONCURRENCY=0 QUILT_S3_REQUEST_TIMEOUT=abc \
		QUILT_S3_CONNECT_TIMEOUT=-1 QUILT_S3_STALL_TIMEOUT=nan QUILT_S3_MAX_ATTEMPTS=0 \
		QUILT_MULTIPART_THRESHOLD=lots QUILT_MULTIPART_THRESHOLD=1K QUILT_MULTIPART_PART_SIZE=6T; do
		name=${setting%%=*} value=${setting#*=} &&
		(export "$setting" && test_must_fail --exit=64 quilt build ns/env d 2>err) &&
		test_line_count = 1 err && grep -q "^error: invalid $name '\''$value'\'': " err || return 1
	done &&
	QUILT_MANIFEST_MAX_RECORD_SIZE=-5 test_must_fail --exit=64 quilt log ns/pkg &&
	test_must_fail quilt-rev-parse ns/env
'

test_expect_success 'settings in range, and empty ones, are taken' '
	QUILT_MANIFEST_MAX_RECORD_SIZE=100000 QUILT_TRANSFER_MAX_CONCURRENCY=2 QUILT_S3_REQUEST_TIMEOUT=2.5 \
		QUILT_MULTIPART_THRESHOLD=64M QUILT_MULTIPART_PART_SIZE=5MiB QUILT_S3_MAX_ATTEMPTS= quilt build ns/env d
'

test_expect_success 'a registry URL naming an impossible bucket is a usage error' '
	usage_error quilt list --registry "s3://Bad_Bucket!" &&
	usage_error quilt log ns/pkg --registry "s3://a" &&
	usage_error quilt build ns/x d --registry "s3://-dash" &&
	usage_error quilt push ns/x d --registry "s3://bad..name" &&
	usage_error quilt-upload-blob --registry "s3://192.168.0.1" </dev/null
'

test_expect_success 'a hash that is not hex is a usage error' '
	usage_error quilt delete ns/pkg --top-hash zzzzzzz --yes &&
	usage_error quilt-update-ref ns/pkg zzzzzzz &&
	usage_error quilt-update-ref ns/pkg $h zzzzzzz &&
	usage_error quilt-update-ref ns/pkg $(printf %064d 0 | tr 0 z) &&
	test "$(quilt-rev-parse ns/pkg)" = "$h"
'

test_expect_success 'the options a usage error is about are named' '
	usage_error env -u QUILT_TEST_S3_ENDPOINT quilt push ns/x d &&
	grep -q "^error: no registry: give --registry s3://bucket or set .quilt config default_remote_registry.$" err &&
	usage_error quilt cache prune &&
	grep -q "^error: prune needs --older-than, --max-size or cache_max_size in config.yml$" err
'

test_expect_success 'push checks --dest before it reads a file' '
	test_must_fail --exit=64 quilt push ns/x --set k=missing.txt --registry s3://some-bucket --dest s3://other-bucket/x 2>err &&
	test_line_count = 2 err && grep -q "^error: .*--dest" err && grep -q "^hint: .*--registry s3://other-bucket" err
'

test_done
