#!/usr/bin/env bash
test_description='plumbing against S3 (moto): hash-object | upload-blob | write-manifest | update-ref, then log/show/install; fetch-blob; upload-blob FILE DEST-URL'
. "$(dirname "$0")/lib.sh"

bucket=plumb-$$-$RANDOM
reg=s3://$bucket

# s3_get URL: prints an object's bytes (s3://bucket/key[?versionId=…]) with boto3.
s3_get() {
	"$QUILT_TEST_PYTHON" - "$1" <<'PY'
import os, sys, boto3
from urllib.parse import urlsplit, unquote, parse_qs
u = urlsplit(sys.argv[1])
kw = {"Bucket": u.netloc, "Key": unquote(u.path[1:])}
v = parse_qs(u.query).get("versionId")
if v: kw["VersionId"] = v[0]
sys.stdout.buffer.write(boto3.client("s3", endpoint_url=os.environ["QUILT_TEST_S3_ENDPOINT"]).get_object(**kw)["Body"].read())
PY
}

test_expect_success S3 'setup' '
	s3_make_bucket "$bucket" --versioned &&
	mkdir -p data/sub "data/we ird" && echo a >data/a.txt && echo b >data/sub/b.txt &&
	printf "" >data/empty && echo x >"data/we ird/x+y%.txt" && make_file data/big.bin 8388609
'

test_expect_success S3 'the pipeline from interface.md publishes a package' '
	(cd data && find . -type f | quilt-hash-object --stdin-paths --entries |
		quilt-upload-blob --registry "$reg" --dest "$reg/ns/name" >../uploaded 2>../err1 &&
		quilt-write-manifest --registry "$reg" --message nightly <../uploaded >../top 2>../err2 &&
		xargs quilt-update-ref --registry "$reg" ns/name <../top 2>../err3) &&
	test_line_count = 5 uploaded && test_line_count = 1 top &&
	test ! -s err1 && test ! -s err2 && test ! -s err3
'

test_expect_success S3 'upload-blob: s3 keys with versionId under the destination, hashes computed locally' '
	"$QUILT_TEST_PYTHON" - "$bucket" uploaded <<-\PY
	import json, sys
	from urllib.parse import quote
	bucket = sys.argv[1]
	for line in open(sys.argv[2]):
	    e = json.loads(line)
	    [pk] = e["physical_keys"]
	    base, _, query = pk.partition("?")
	    assert base == "s3://%s%s" % (bucket, quote("/ns/name/" + e["logical_key"])), pk
	    assert query.startswith("versionId=") and len(query) > len("versionId="), pk
	    assert e["hash"]["type"] == "sha2-256-chunked", e
	PY
	(cd data && find . -type f | quilt-hash-object --stdin-paths --entries) >local &&
	"$QUILT_TEST_PYTHON" -c "
import json, sys
a = {json.loads(l)[\"logical_key\"]: json.loads(l)[\"hash\"] for l in open(\"local\")}
b = {json.loads(l)[\"logical_key\"]: json.loads(l)[\"hash\"] for l in open(\"uploaded\")}
assert a == b, (a, b)
" &&
	big=$(grep "big.bin" uploaded | "$QUILT_TEST_PYTHON" -c "import json,sys; print(json.load(sys.stdin)[\"physical_keys\"][0])") &&
	s3_get "$big" >big.back && cmp data/big.bin big.back
'

test_expect_success S3 'log, show and rev-parse read the S3 registry' '
	quilt log ns/name --registry "$reg" >log && grep -q "$(cat top)" log && grep -q nightly log &&
	test "$(quilt-rev-parse --registry "$reg" ns/name)" = "$(cat top)" &&
	quilt show ns/name --registry "$reg" --json >show &&
	"$QUILT_TEST_PYTHON" -c "
import json; s = json.load(open(\"show\"))
assert s[\"message\"] == \"nightly\" and s[\"top_hash\"] == open(\"top\").read().strip()
assert sorted(e[\"logical_key\"] for e in s[\"entries\"]) == [\"a.txt\", \"big.bin\", \"empty\", \"sub/b.txt\", \"we ird/x+y%.txt\"]
" &&
	quilt-show-ref --registry "$reg" ns/name >refs && grep -q " ns/name latest$" refs
'

test_expect_success S3 'install from S3 materialises every file and records the revision locally' '
	quilt install ns/name --registry "$reg" --dest inst 2>err &&
	test ! -s err &&
	cmp data/a.txt inst/a.txt && cmp data/big.bin inst/big.bin && cmp "data/we ird/x+y%.txt" "inst/we ird/x+y%.txt" &&
	test -f inst/empty && test ! -s inst/empty &&
	test "$(quilt-rev-parse ns/name)" = "$(cat top)" &&
	quilt verify ns/name --registry "$reg" --dir inst --json >v && grep -q "\"ok\": *true" v
'

# An S3 entry stream that does not depend on upload-blob: objects put with boto3, hashes from quilt-hash-object.
test_expect_success S3 'setup: an S3 entry stream written without upload-blob' '
	(cd data && find . -type f | quilt-hash-object --stdin-paths --entries) >local &&
	"$QUILT_TEST_PYTHON" - "$bucket" local >raw <<-\PY
	import json, os, sys
	from urllib.parse import quote, unquote, urlsplit
	import boto3
	s3 = boto3.client("s3", endpoint_url=os.environ["QUILT_TEST_S3_ENDPOINT"])
	bucket = sys.argv[1]
	for line in open(sys.argv[2]):
	    e = json.loads(line)
	    path = unquote(urlsplit(e["physical_keys"][0]).path)
	    key = "raw/" + e["logical_key"]
	    with open(path, "rb") as f:
	        v = s3.put_object(Bucket=bucket, Key=key, Body=f, ContentType="application/octet-stream")["VersionId"]
	    e["physical_keys"] = ["s3://%s%s?versionId=%s" % (bucket, quote("/" + key), v)]
	    print(json.dumps(e))
	PY
	test_line_count = 5 raw
'

test_expect_success S3 'fetch-blob reads an S3 entry stream and verifies hashes' '
	quilt-fetch-blob --dest fb <raw >written 2>err &&
	test_line_count = 5 written && test ! -s err &&
	cmp data/big.bin fb/big.bin && cmp data/sub/b.txt fb/sub/b.txt && cmp "data/we ird/x+y%.txt" "fb/we ird/x+y%.txt"
'

test_expect_success S3 'fetch-blob refuses an S3 entry whose hash does not match' '
	grep "a.txt" raw | sed "s/\"value\": *\"[^\"]*\"/\"value\": \"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"/" >bad &&
	test_must_fail --exit=1 quilt-fetch-blob --dest fbad <bad 2>err &&
	grep -q "^error: " err && test ! -e fbad/a.txt
'

# (A function: a `return` in a test body would leave test_expect_success itself.)
# $1: the entry's name; then the wrong sizes to record for it. A size up to 1 MiB is read whole into memory by a
# ranged GET of one byte more than it; a bigger one into a file. Either way the size found is the object's.
fetch_wrong_sizes() {
    local name=$1 size wrong
    shift
    grep "\"$name\"" raw >one && size=$(sed "s/.*\"size\": *\([0-9]*\).*/\1/" one) || return 1
    for wrong in "$@"; do
        wrong=$((wrong))
        sed "s/\"size\": *[0-9]*/\"size\": $wrong/" one >wrongsize &&
        test_must_fail --exit=1 quilt-fetch-blob --dest fsize <wrongsize 2>err &&
        grep -q "^error: size mismatch for .$name.: expected $wrong bytes, got $size$" err &&
        test ! -e "fsize/$name" || { cat err; return 1; }
    done
}

test_expect_success S3 'fetch-blob of an S3 entry whose size is wrong names the size found' '
	fetch_wrong_sizes big.bin 1 5 "size + 1000"
'

# 8 MiB exactly: one ranged GET that comes back whole (the object goes on past it); 8 MiB + 2: the last range
# comes back short; 16 MiB + 1: the last range starts past the object's end, which S3 refuses (416).
test_expect_success S3 'fetch-blob: a size one byte short, one over, or a range past the end names the size found' '
	fetch_wrong_sizes big.bin "size - 1" "size + 1" "2 * 8388608 + 1"
'

test_expect_success S3 'a small S3 entry whose size is wrong, read whole into memory, names the size found' '
	fetch_wrong_sizes sub/b.txt 1 3 1002
'

test_expect_success S3 'manifest-only: write-manifest + update-ref on S3 keys, then show and install' '
	quilt-write-manifest --registry "$reg" --message raw <raw >rawtop &&
	quilt-update-ref --registry "$reg" ns/raw "$(cat rawtop)" &&
	test "$(quilt-rev-parse --registry "$reg" ns/raw)" = "$(cat rawtop)" &&
	quilt show ns/raw --registry "$reg" --json >shown && grep -q "raw/big.bin" shown &&
	quilt install ns/raw --registry "$reg" --dest rawinst 2>err && test ! -s err &&
	cmp data/big.bin rawinst/big.bin && cmp data/a.txt rawinst/a.txt
'

test_expect_success S3 'upload-blob FILE DEST-URL uploads one file and prints its entry' '
	quilt-upload-blob data/big.bin "$reg/single/big.bin" >one 2>err &&
	test ! -s err && test_line_count = 1 one &&
	"$QUILT_TEST_PYTHON" -c "
import json; e = json.load(open(\"one\"))
assert e[\"physical_keys\"][0].startswith(\"$reg/single/big.bin?versionId=\"), e
assert e[\"size\"] == 8388609, e
" &&
	quilt-hash-object data/big.bin >h &&
	grep -qF "$(cat h)" one &&
	s3_get "$reg/single/big.bin" >single.back && cmp data/big.bin single.back
'

test_expect_success S3 'upload-blob copies an entry from another bucket (s3:// source)' '
	s3_make_bucket "$bucket-src" --versioned &&
	quilt-upload-blob data/a.txt "s3://$bucket-src/src/a.txt" >src 2>err &&
	quilt-upload-blob --registry "$reg" --dest "$reg/copied" <src >copied 2>>err &&
	test ! -s err && grep -q "\"s3://$bucket/copied/a.txt?versionId=" copied &&
	s3_get "$(sed -n "s/.*\"physical_keys\": *\[\"\([^\"]*\)\".*/\1/p" copied)" >copied.back && cmp data/a.txt copied.back
'

test_expect_success S3 'upload-blob: default destination is the registry bucket under the logical key' '
	echo "{\"logical_key\": \"d/one.txt\", \"physical_keys\": [\"file://$TRASH/data/a.txt\"], \"size\": 2, \"hash\": null, \"meta\": {}}" |
		quilt-upload-blob --registry "$reg" >def 2>err &&
	grep -q "\"s3://$bucket/d/one.txt?versionId=" def && grep -q "sha2-256-chunked" def
'

test_expect_success S3 'upload-blob to a missing bucket fails naming it' '
	test_must_fail --exit=1 quilt-upload-blob data/a.txt "s3://no-such-$bucket/x" >out 2>err &&
	test ! -s out && grep "^error: " err | grep -qF "no-such-$bucket"
'

test_done
