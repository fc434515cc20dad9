#!/usr/bin/env bash
test_description='manifest-only builds over S3 objects hash from S3 SHA-256 checksums without reading data (proxy log), fall back to ranged GETs where checksums do not decide, and give quilt3 top hashes'
. "$(dirname "$0")/lib.sh"

bucket=sums-$$-$RANDOM

trap proxy_stop EXIT

# through_proxy CMD...: runs CMD with S3 requests going through the proxy, the log emptied first.
through_proxy() {
	: >proxy.log
	AWS_ENDPOINT_URL=$PROXY_URL "$@"
}

# data_gets FILE: the proxy log's GETs of object data under the bucket (not attributes, not listings).
data_gets() {
	grep " GET /$bucket/" proxy.log | grep -v -e "?attributes" -e "?versions" -e "?list-type" -e " GET /$bucket/.quilt/" || true
}

# json_field FILE KEY...: a value from a --json document.
json_field() {
	"$QUILT_TEST_PYTHON" -c 'import json, sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2:]:
    v = v[k]
print(v)' "$@"
}

# quilt3_build NAME URL...: quilt3's top hash for set_dir(".", URL) (or set(lk, url) for LK=URL arguments),
# built into a scratch local registry (quilt3 reads every byte).
quilt3_build() {
	quilt3_py - "$@" <<'PY'
import sys, quilt3
p = quilt3.Package()
for arg in sys.argv[2:]:
    if "=" in arg:
        lk, url = arg.split("=", 1)
        p.set(lk, url)
    else:
        p.set_dir(".", arg)
print(p.build(sys.argv[1], registry="file://" + __import__("os").path.abspath("q3reg")))
PY
}

test_expect_success S3 'setup: objects put with SHA-256 checksums, multipart, and without a checksum' '
	s3_make_bucket "$bucket" --versioned &&
	"$QUILT_TEST_PYTHON" - "$bucket" <<-\PY &&
	import os, random, sys, boto3
	s3 = boto3.client("s3", endpoint_url=os.environ["QUILT_TEST_S3_ENDPOINT"])
	b = sys.argv[1]
	rng = random.Random(5)
	def put(key, body, checksum=True):
	    extra = {"ChecksumAlgorithm": "SHA256"} if checksum else {}
	    s3.put_object(Bucket=b, Key=key, Body=body, **extra)
	for i in range(6):
	    put(f"sums/f{i}.bin", rng.randbytes(1000 * i + 7))
	put("sums/empty", b"")
	put("sums/deep/é ü+%.txt", b"hello\n")
	put("sums/exactly-8mib.bin", rng.randbytes(8 * 1024 * 1024))
	# moto keeps a multipart object composite checksum but lists no parts: it must be read.
	mp = s3.create_multipart_upload(Bucket=b, Key="mixed/multi.bin", ChecksumAlgorithm="SHA256")
	data = rng.randbytes(9 * 1024 * 1024 + 3)
	parts = []
	for n, (lo, hi) in enumerate([(0, 8 << 20), (8 << 20, len(data))], 1):
	    r = s3.upload_part(Bucket=b, Key="mixed/multi.bin", UploadId=mp["UploadId"], PartNumber=n, Body=data[lo:hi],
	                       ChecksumAlgorithm="SHA256")
	    parts.append({"PartNumber": n, "ETag": r["ETag"], "ChecksumSHA256": r["ChecksumSHA256"]})
	s3.complete_multipart_upload(Bucket=b, Key="mixed/multi.bin", UploadId=mp["UploadId"], MultipartUpload={"Parts": parts})
	put("mixed/plain.txt", b"no checksum here", checksum=False)
	put("mixed/summed.txt", b"with a checksum")
	PY
	mkdir -p local && echo "from disk" >local/up.txt &&
	quilt-upload-blob local/up.txt "s3://$bucket/sums/uploaded.txt" >/dev/null &&
	proxy_start
'

test_expect_success S3 'a build over objects with SHA-256 checksums reads no object data' '
	through_proxy quilt build t/sums "s3://$bucket/sums/" --registry reg --json >build.json 2>err &&
	data_gets >gets && test_line_count = 0 gets &&
	grep -c "?attributes" proxy.log >n && test "$(cat n)" -eq 10 &&
	test "$(json_field build.json s3_hashing objects)" = 10 &&
	test "$(json_field build.json s3_hashing from_checksums)" = 10 &&
	test "$(json_field build.json s3_hashing read)" = 0 &&
	test "$(json_field build.json s3_hashing bytes_downloaded)" = 0
'

test_expect_success S3,QUILT3 'and its top hash is quilt3 (which reads every byte)' '
	test "$(json_field build.json top_hash)" = "$(quilt3_build t/sums "s3://$bucket/sums/")"
'

test_expect_success S3 'every entry hash is the hash of the bytes (quilt-fetch-blob verifies each)' '
	mkdir fetched && quilt-cat-manifest --registry reg t/sums | quilt-fetch-blob --dest fetched >/dev/null
'

test_expect_success S3 'a multipart object without listed parts and one without a checksum are read; the rest is not' '
	through_proxy quilt build t/mixed "s3://$bucket/mixed/" --registry reg --json -v >mixed.json 2>err &&
	test "$(json_field mixed.json s3_hashing from_checksums)" = 1 &&
	test "$(json_field mixed.json s3_hashing read)" = 2 &&
	test "$(json_field mixed.json s3_hashing bytes_downloaded)" = $((9 * 1024 * 1024 + 3 + 16)) &&
	data_gets >gets && grep -q "/mixed/multi.bin?versionId" gets && grep -q "/mixed/plain.txt?versionId" gets &&
	! grep -q summed gets &&
	grep -q "^verbose: hashed 3 S3 object(s): 1 from S3.s SHA-256 checksums, 2 read (9437203 bytes downloaded for hashing)$" err
'

test_expect_success S3,QUILT3 'its top hash is quilt3 too' '
	test "$(json_field mixed.json top_hash)" = "$(quilt3_build t/mixed "s3://$bucket/mixed/")"
'

test_expect_success S3 '--set s3://… takes the same path, and so does push to the bucket the objects are in' '
	through_proxy quilt build t/set --set "a.bin=s3://$bucket/sums/f3.bin" --set "u.txt=s3://$bucket/sums/uploaded.txt" \
		--registry reg --json >set.json &&
	test -z "$(data_gets)" && test "$(json_field set.json s3_hashing from_checksums)" = 2 &&
	through_proxy quilt push t/pushed "s3://$bucket/sums/" --registry "s3://$bucket" --json >push.json &&
	test -z "$(data_gets)" && test "$(json_field push.json s3_hashing from_checksums)" = 10 &&
	test "$(json_field push.json top_hash)" = "$(json_field build.json top_hash)"
'

test_expect_success S3,QUILT3 '--set gives quilt3 top hash' '
	test "$(json_field set.json top_hash)" = "$(quilt3_build t/set "a.bin=s3://$bucket/sums/f3.bin" "u.txt=s3://$bucket/sums/uploaded.txt")"
'

test_expect_success S3 'QUILT_S3_CHECKSUMS=ignore reads every byte, as quilt3 does, to the same top hash' '
	QUILT_S3_CHECKSUMS=ignore through_proxy quilt build t/sums "s3://$bucket/sums/" --registry reg --json >ignored.json &&
	test "$(json_field ignored.json s3_hashing from_checksums)" = 0 &&
	test "$(json_field ignored.json s3_hashing read)" = 10 &&
	test "$(json_field ignored.json s3_hashing bytes_downloaded)" = $((7 + 1007 + 2007 + 3007 + 4007 + 5007 + 6 + 8388608 + 10)) &&
	test -n "$(data_gets)" && ! grep -q "?attributes" proxy.log &&
	test "$(json_field ignored.json top_hash)" = "$(json_field build.json top_hash)" &&
	test_must_fail --exit=64 env QUILT_S3_CHECKSUMS=maybe quilt build t/x "s3://$bucket/sums/" --registry reg 2>err &&
	grep -q "QUILT_S3_CHECKSUMS" err
'

test_expect_success S3 'local builds report no S3 hashing' '
	quilt build t/local local --registry reg --json >local.json &&
	test "$(json_field local.json s3_hashing objects)" = 0
'

test_done
