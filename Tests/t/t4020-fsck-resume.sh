#!/usr/bin/env bash
test_description='quilt fsck --objects killed with kill -9 after its first checkpoint and rerun with --resume: the
rerun checks only what the checkpoint did not count (HEADs counted in the fault proxy'"'"'s request log), reports
again what the killed run found, and ends as a run from the start would'
. "$(dirname "$0")/lib.sh"

BUCKET=resume-$$
COUNT=1400
trap proxy_stop EXIT

# checkpoint_field NAME: a field of the registry's fsck checkpoint (empty when there is none).
checkpoint_field() {
	"$QUILT_TEST_PYTHON" - "$1" "$XDG_DATA_HOME/Quilt/fsck" <<-\PY 2>/dev/null
	import glob, json, sys
	for path in glob.glob(sys.argv[2] + "/*/checkpoint.json"):
	    print(json.load(open(path))[sys.argv[1]])
	PY
}

# object_heads: the HEADs of the proxy log that look data objects up (not the registry's own keys).
object_heads() { grep -c " HEAD /$BUCKET/objs/" proxy.log || true; }

test_expect_success S3 "setup: $COUNT objects put with SHA-256 checksums, one revision naming them all" '
	s3_make_bucket $BUCKET --versioned &&
	"$QUILT_TEST_PYTHON" - $BUCKET $COUNT <<-\PY &&
	import os, sys, boto3
	from concurrent.futures import ThreadPoolExecutor
	s3 = boto3.client("s3", endpoint_url=os.environ["QUILT_TEST_S3_ENDPOINT"])
	bucket, count = sys.argv[1], int(sys.argv[2])
	def put(i):
	    s3.put_object(Bucket=bucket, Key=f"objs/{i:04d}.bin", Body=b"object %d\n" % i, ChecksumAlgorithm="SHA256")
	with ThreadPoolExecutor(8) as pool:
	    list(pool.map(put, range(count)))
	PY
	quilt build ns/many "s3://$BUCKET/objs/" --registry "s3://$BUCKET" >top &&
	proxy_start
'

test_expect_success S3 'a clean run checks every object once' '
	: >proxy.log &&
	AWS_ENDPOINT_URL=$PROXY_URL quilt fsck --objects --registry "s3://$BUCKET" >out 2>err &&
	test_line_count = 0 out && grep -q "^Checked 2 pointers, 1 manifest, $COUNT objects ($COUNT entries): 0 problems$" err &&
	test "$(object_heads)" -eq $COUNT &&
	test -z "$(checkpoint_field phase)"
'

test_expect_success S3 'the first object (in sort order) loses its version: a problem the killed run finds first' '
	"$QUILT_TEST_PYTHON" - $BUCKET <<-\PY
	import os, sys, boto3
	s3 = boto3.client("s3", endpoint_url=os.environ["QUILT_TEST_S3_ENDPOINT"])
	v = s3.list_object_versions(Bucket=sys.argv[1], Prefix="objs/0000.bin")["Versions"]
	s3.delete_object(Bucket=sys.argv[1], Key="objs/0000.bin", VersionId=v[0]["VersionId"])
	PY
'

# kill_after_checkpoint [ANY]: starts fsck through the proxy, one HEAD at a time, and kills it with SIGKILL as soon as
# a checkpoint counts objects (it is kept every 1,000 objects or 30 s); with ANY, as soon as there is a checkpoint.
kill_after_checkpoint() {
	local min=1
	[ $# -gt 0 ] && min=0
	: >proxy.log
	AWS_ENDPOINT_URL=$PROXY_URL QUILT_TRANSFER_MAX_CONCURRENCY=1 \
		quilt fsck --objects --registry "s3://$BUCKET" >killed.out 2>killed.err &
	kill9_when $! "test \"\$(checkpoint_field objects_done)\" -ge $min 2>/dev/null" ||
		{ echo "fsck was not killed midway"; cat killed.err; return 1; }
	DONE=$(checkpoint_field objects_done)
	HEADS_BEFORE=$(object_heads)
	echo "killed after $HEADS_BEFORE HEADs; the checkpoint counts $DONE objects"
	[ $min -eq 0 ] || { test "$DONE" -ge 1000 && test "$DONE" -lt $COUNT && test "$HEADS_BEFORE" -ge "$DONE"; }
}

test_expect_success S3 'fsck --objects killed with kill -9 after its first checkpoint' '
	kill_after_checkpoint &&
	grep -q "^missing object	ns/many	$(cat top)	0000.bin	s3://$BUCKET/objs/0000.bin?versionId=.*: no such version$" killed.out
'

test_expect_success S3 '--resume checks only the objects the checkpoint does not count' '
	: >proxy.log &&
	test_must_fail --exit=1 env AWS_ENDPOINT_URL=$PROXY_URL quilt fsck --objects --resume --registry "s3://$BUCKET" --json >resumed.json &&
	heads=$(object_heads) &&
	echo "resumed run: $heads HEADs" &&
	test "$heads" -eq $((COUNT - DONE)) &&
	"$QUILT_TEST_PYTHON" - resumed.json $COUNT $DONE <<-\PY
	import json, sys
	r = json.load(open(sys.argv[1]))
	count, done = int(sys.argv[2]), int(sys.argv[3])
	assert r["resumed"] and not r["ok"], r
	assert r["skipped"] == {"manifests": 1, "objects": done}, r["skipped"]
	assert r["checked"]["objects"] == count and r["checked"]["references"] == count, r["checked"]
	# The killed run found the missing object; the resumed run reports it again, once.
	assert [(p["problem"], p["key"]) for p in r["problems"]] == [("missing object", "0000.bin")], r["problems"]
	PY
'

test_expect_success S3 'the finished run leaves no checkpoint; --resume without one checks from the start' '
	test -z "$(checkpoint_field phase)" &&
	: >proxy.log &&
	test_must_fail env AWS_ENDPOINT_URL=$PROXY_URL quilt fsck --objects --resume --registry "s3://$BUCKET" >out 2>err &&
	grep -q "^warning: not resumed: there is no checkpoint; checked from the start$" err &&
	test "$(object_heads)" -eq $COUNT && test_line_count = 1 out
'

test_expect_success S3 'a checkpoint of other options is not resumed' '
	kill_after_checkpoint any &&
	: >proxy.log &&
	test_must_fail env AWS_ENDPOINT_URL=$PROXY_URL quilt fsck --full --resume --registry "s3://$BUCKET" >out 2>err &&
	grep -q "^warning: not resumed: the checkpoint is of a run with other options; checked from the start$" err &&
	test "$(object_heads)" -eq $COUNT && test_line_count = 1 out
'

test_expect_success S3 'nothing was written to the registry' '
	"$QUILT_TEST_PYTHON" - $BUCKET <<-\PY
	import os, sys, boto3
	s3 = boto3.client("s3", endpoint_url=os.environ["QUILT_TEST_S3_ENDPOINT"])
	keys = [o["Key"] for o in s3.list_objects_v2(Bucket=sys.argv[1], Prefix=".quilt/").get("Contents", [])]
	assert len(keys) == 3, keys  # the manifest, the timestamp pointer, latest
	PY
'

test_done
