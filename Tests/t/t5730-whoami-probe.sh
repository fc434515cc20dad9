#!/usr/bin/env bash
test_description='quilt whoami --registry leaves nothing behind: no object, version or delete marker, with credentials
and without them (then nothing is written at all); credentials that may put but not delete pass the write check and
are told where the probe stayed; --read-only writes nothing'
. "$(dirname "$0")/lib.sh"

BUCKET=whoami-probe-$$
UNVERSIONED=whoami-plain-$$
trap proxy_stop EXIT

# versions BUCKET: prints "<versions> <delete markers>" of the bucket.
versions() {
	"$QUILT_TEST_PYTHON" - "$1" <<-\EOF
	import os, sys, boto3
	s3 = boto3.client("s3", endpoint_url=os.environ["QUILT_TEST_S3_ENDPOINT"])
	r = s3.list_object_versions(Bucket=sys.argv[1])
	print(len(r.get("Versions", [])), len(r.get("DeleteMarkers", [])))
	EOF
}

test_expect_success S3 'setup: a versioned and an unversioned bucket' '
	s3_make_bucket "$BUCKET" --versioned && s3_make_bucket "$UNVERSIONED" &&
	echo "0 0" >empty
'

test_expect_success S3 'with credentials: write ok, and no object, version or delete marker stays' '
	quilt whoami --registry "s3://$BUCKET" >out &&
	grep -q "^write:       ok$" out &&
	quilt whoami --registry "s3://$BUCKET/team/prefix" >out && grep -q "^write:       ok$" out &&
	quilt whoami --registry "s3://$UNVERSIONED" >out && grep -q "^write:       ok$" out &&
	versions "$BUCKET" >v && test_cmp empty v && versions "$UNVERSIONED" >v && test_cmp empty v
'

test_expect_success S3 'without credentials: nothing is written (an anonymous write could not be taken back)' '
	test_must_fail --exit=1 env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN \
		quilt whoami --registry "s3://$BUCKET" -v >out 2>err &&
	grep -q "^write:       not checked (no credentials to write with)$" out &&
	! grep -q "PutObject\|DeleteObject" err &&
	versions "$BUCKET" >v && test_cmp empty v
'

test_expect_success S3 '--read-only: the read check only; no request writes (proxy log: no PUT, no DELETE)' '
	proxy_start &&
	AWS_ENDPOINT_URL=$PROXY_URL quilt whoami --registry "s3://$BUCKET" --read-only >out &&
	grep -q "^read:        ok$" out && grep -q "^write:       not checked (--read-only)$" out &&
	! grep -E "^(PUT|DELETE|POST) " proxy.log &&
	AWS_ENDPOINT_URL=$PROXY_URL quilt whoami --registry "s3://$BUCKET" --read-only --json >out &&
	"$QUILT_TEST_PYTHON" -c "import json; d = json.load(open(\"out\"))[\"registry\"]; assert d[\"write\"] is None and d[\"write_skipped\"] == \"--read-only\", d" &&
	proxy_stop && versions "$BUCKET" >v && test_cmp empty v
'

test_expect_success S3 'credentials that may put but not delete: write ok, a warning saying where the probe is' '
	proxy_start 403:1 --methods DELETE &&
	AWS_ENDPOINT_URL=$PROXY_URL quilt whoami --registry "s3://$BUCKET" >out 2>err &&
	grep -q "^write:       ok$" out &&
	grep -q "^warning: could not remove the write probe '"'"'s3://$BUCKET/.quilt/whoami/probe-[0-9a-f]*?versionId=" err &&
	grep -q "may write but not delete" err &&
	AWS_ENDPOINT_URL=$PROXY_URL quilt whoami --registry "s3://$BUCKET" --json >out 2>err &&
	"$QUILT_TEST_PYTHON" -c "import json; w = json.load(open(\"out\"))[\"registry\"][\"write\"]; assert w[\"ok\"] and w[\"left_behind\"][\"location\"].startswith(\"s3://$BUCKET/.quilt/whoami/probe-\"), w" &&
	proxy_stop &&
	versions "$BUCKET" >v && echo "2 0" >expect && test_cmp expect v
'

test_expect_success 'a local registry: --read-only creates nothing; the probe file is removed' '
	mkdir reg && chmod 755 reg &&
	quilt whoami --registry reg --read-only >out 2>&1; grep -q "^write:       not checked (--read-only)$" out &&
	test -z "$(ls -A reg)"
'

test_done
