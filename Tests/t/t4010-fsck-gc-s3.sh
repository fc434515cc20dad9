#!/usr/bin/env bash
test_description='quilt fsck and quilt gc on an S3 registry (moto): a dangling pointer, a manifest whose bytes
were changed, a deleted object version and a local file changed with its size kept are each named, and nothing
else (not the orphans of a killed push); a clean registry exits 0; gc --dry-run lists exactly what no kept
manifest references (the killed push'"'"'s objects and upload, an unreachable revision), gc --yes deletes that and
nothing else, and quilt3 still installs and verifies every package'
. "$(dirname "$0")/lib.sh"

BUCKET=care-$$
REG=s3://$BUCKET
JOURNALS="$XDG_DATA_HOME/Quilt/journal"

# py SCRIPT ARGS...: the venv's python with boto3 on the test endpoint, the bucket as sys.argv[1].
s3py() { "$QUILT_TEST_PYTHON" - "$BUCKET" "$@"; }

# interrupted_push NAME DIR: a push killed with SIGKILL once a whole file is uploaded and journalled and its big
# file's multipart upload has a part (as in t6700): its uploads are orphans.
interrupted_push() {
	rm -rf "$JOURNALS"
	quilt push "$1" "$2" --from "$1" --registry "$REG" --message interrupted >/dev/null 2>&1 &
	kill9_when $! 'grep -qs "\"op\":\"part\"" "$JOURNALS"/push-*.jsonl && grep -qs "\"op\":\"done\"" "$JOURNALS"/push-*.jsonl' ||
		{ echo "the push was not interrupted"; return 1; }
	test "$(quilt rev-parse "$1" --registry "$REG")" = "$(cat c1)" || { echo "the killed push published"; return 1; }
}

# bucket_state: every version (delete markers too) and every incomplete upload of the bucket, one line each.
bucket_state() {
	s3py <<-\PY
	import os, sys, boto3
	s3 = boto3.client("s3", endpoint_url=os.environ["QUILT_TEST_S3_ENDPOINT"])
	for page in s3.get_paginator("list_object_versions").paginate(Bucket=sys.argv[1]):
	    for v in page.get("Versions", []):
	        print("manifest" if v["Key"].startswith(".quilt/packages/") else "object", v["Key"], v["VersionId"])
	    for v in page.get("DeleteMarkers", []):
	        print("marker", v["Key"], v["VersionId"])
	for u in s3.list_multipart_uploads(Bucket=sys.argv[1]).get("Uploads", []):
	    print("upload", u["Key"], u["UploadId"])
	PY
}

# fields FILE: the problem, package, revision and key of each line of a fsck report, sorted.
fields() { cut -f1-4 "$1" | sort; }

test_expect_success S3 'setup: four packages (one of local files), keys outside them, a killed push' '
	s3_make_bucket $BUCKET --versioned &&
	make_file a/one.txt 100 one1 && make_file a/two.bin 3000 two && make_file a/big.bin $((9 * 1048576 + 7)) big &&
	quilt push ns/a a --registry "$REG" --message "a one" >a1 &&
	make_file a/one.txt 100 one2 &&
	quilt push ns/a a --from ns/a --registry "$REG" --message "a two" >a2 &&
	make_file b/x.txt 50 x && quilt push ns/b b --registry "$REG" --message "b first" >b1 &&
	make_file c/small.txt 5000 c1 && make_file c/big.bin $((40 * 1048576)) cbig1 &&
	quilt push ns/c c --registry "$REG" --message "c one" >c1 &&
	make_file l/f.txt 64 f1 && quilt build ns/local l --registry "$REG" >l1 &&
	s3py <<-\PY &&
	import os, sys, boto3
	s3 = boto3.client("s3", endpoint_url=os.environ["QUILT_TEST_S3_ENDPOINT"])
	for key in ("other/keep.txt", "ns/notapkg/y.txt", "ns/a-stray.txt"):
	    s3.put_object(Bucket=sys.argv[1], Key=key, Body=b"not quilt data\n")
	PY
	make_file c/small.txt 5000 c2 && make_file c/big.bin $((40 * 1048576)) cbig2 &&
	interrupted_push ns/c c
'

test_expect_success S3 'the registry as pushed is clean: exit 0, nothing on standard output' '
	quilt fsck --full --registry "$REG" >out 2>err &&
	test_line_count = 0 out &&
	grep -q "^Checked 9 pointers, 5 manifests, [0-9]* objects ([0-9]* entries): 0 problems$" err
'

test_expect_success S3 'damage: a dangling pointer, a changed manifest, a deleted object version, a local file rewritten' '
	printf "%064d" 0 | tr 0 f >ptr &&
	s3py "$(cat a1)" "$(cat b1)" <<-\PY &&
	import os, sys, boto3
	s3 = boto3.client("s3", endpoint_url=os.environ["QUILT_TEST_S3_ENDPOINT"])
	bucket, a1, b1 = sys.argv[1:4]
	s3.put_object(Bucket=bucket, Key=".quilt/named_packages/ns/b/1600000000", Body=open("ptr", "rb").read())
	original = s3.get_object(Bucket=bucket, Key=".quilt/packages/" + b1)["Body"].read()
	open("b1.manifest", "wb").write(original)
	s3.put_object(Bucket=bucket, Key=".quilt/packages/" + b1, Body=original.replace(b"b first", b"b forst"))
	# one.txt as the first revision has it: only that revision names this version.
	import json, urllib.parse
	lines = s3.get_object(Bucket=bucket, Key=".quilt/packages/" + a1)["Body"].read().decode().splitlines()
	entry = [json.loads(l) for l in lines[1:] if json.loads(l)["logical_key"] == "one.txt"][0]
	url = urllib.parse.urlparse(entry["physical_keys"][0])
	version = urllib.parse.parse_qs(url.query)["versionId"][0]
	s3.delete_object(Bucket=bucket, Key=urllib.parse.unquote(url.path[1:]), VersionId=version)
	open("one-v1", "w").write(version)
	PY
	make_file l/f.txt 64 f2
'

test_expect_success S3 'fsck --full names each problem, and only those; exit 1' '
	test_must_fail --exit=1 quilt fsck --full --registry "$REG" >out 2>err &&
	cat out &&
	cat >expect <<-EOF &&
	corrupt manifest	ns/b	$(cat b1)	.quilt/packages/$(cat b1)
	dangling pointer	ns/b	1600000000	.quilt/named_packages/ns/b/1600000000
	hash mismatch	ns/local	$(cat l1)	f.txt
	missing object	ns/a	$(cat a1)	one.txt
	EOF
	fields out >actual && test_cmp expect actual &&
	grep -q "	names ffff*, which is not stored$" out &&
	grep -q "^missing object	.*	s3://$BUCKET/ns/a/one.txt?versionId=$(cat one-v1): no such version$" out &&
	grep -q "^hash mismatch	.*	file://$TRASH/l/f.txt: hashes to .*, the entry says .* (sha2-256-chunked)$" out &&
	grep -q "^corrupt manifest	.*	hashes to [0-9a-f]\{64\}$" out &&
	grep -q ": 4 problems$" err
'

test_expect_success S3 'without --full the rewritten file (same size) is not seen; without --objects no object is' '
	test_must_fail quilt fsck --objects --registry "$REG" >out &&
	fields out | cut -f1 >kinds && printf "%s\n" "corrupt manifest" "dangling pointer" "missing object" >expect &&
	test_cmp expect kinds &&
	test_must_fail quilt fsck --registry "$REG" >out &&
	fields out | cut -f1 >kinds && printf "%s\n" "corrupt manifest" "dangling pointer" >expect && test_cmp expect kinds
'

test_expect_success S3 'NAME... checks those packages only; --json holds the same findings' '
	test_must_fail quilt fsck --objects --registry "$REG" ns/a ns/c >out &&
	fields out >actual && printf "missing object\tns/a\t%s\tone.txt\n" "$(cat a1)" >expect && test_cmp expect actual &&
	test_must_fail quilt fsck --full --json --registry "$REG" >out.json &&
	"$QUILT_TEST_PYTHON" - out.json <<-\PY
	import json, sys
	r = json.load(open(sys.argv[1]))
	assert r["ok"] is False and r["problems_count"] == 4 and r["warnings_count"] == 0, r
	assert sorted(p["problem"] for p in r["problems"]) == ["corrupt manifest", "dangling pointer", "hash mismatch", "missing object"]
	assert all(p["severity"] == "error" for p in r["problems"])
	assert r["checked"]["pointers"] == 10 and r["checked"]["manifests"] == 5, r["checked"]
	PY
'

test_expect_success S3 'fsck wrote nothing to the registry' '
	bucket_state >before.versions &&
	{ quilt fsck --full --registry "$REG" >/dev/null 2>&1; true; } &&
	bucket_state >after.versions &&
	test_cmp before.versions after.versions
'

test_expect_success S3 'gc refuses a registry with a manifest it cannot read' '
	test_must_fail --exit=1 quilt gc --registry "$REG" --older-than 0 --dry-run 2>err &&
	grep -q "^error: cannot collect garbage: manifest $(cat b1) cannot be read" err &&
	grep -q "^hint: run .quilt fsck. and repair the registry first$" err
'

test_expect_success S3 'repair: the manifest put back, the pointer removed, the broken revision deleted, the file put back' '
	s3py "$(cat b1)" <<-\PY &&
	import os, sys, boto3
	s3 = boto3.client("s3", endpoint_url=os.environ["QUILT_TEST_S3_ENDPOINT"])
	s3.put_object(Bucket=sys.argv[1], Key=".quilt/packages/" + sys.argv[2], Body=open("b1.manifest", "rb").read())
	s3.delete_object(Bucket=sys.argv[1], Key=".quilt/named_packages/ns/b/1600000000")
	PY
	quilt delete ns/a --top-hash "$(cat a1)" --yes --registry "$REG" &&
	make_file l/f.txt 64 f1 &&
	test_must_fail quilt fsck --full --registry "$REG" >out &&
	printf "missing object\t-\t%s\tone.txt\n" "$(cat a1)" >expect && fields out >actual && test_cmp expect actual
'

# expected_garbage: what no kept manifest references, computed here from the definition: versions (not delete
# markers) below the packages' prefixes that no manifest a pointer reaches names, the manifests no pointer reaches,
# and the uploads below the prefixes and .quilt/.
expected_garbage() {
	s3py <<-\PY
	import json, os, sys, urllib.parse, boto3
	s3 = boto3.client("s3", endpoint_url=os.environ["QUILT_TEST_S3_ENDPOINT"])
	bucket = sys.argv[1]
	def versions(prefix):
	    out = []
	    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix):
	        out += page.get("Versions", [])
	    return out
	pointers = [v["Key"] for v in versions(".quilt/named_packages/") if v["IsLatest"]]
	reachable = {s3.get_object(Bucket=bucket, Key=k)["Body"].read().decode() for k in pointers}
	packages = sorted({"/".join(k.split("/")[2:4]) for k in pointers})
	refs = set()
	for h in reachable:
	    for line in s3.get_object(Bucket=bucket, Key=".quilt/packages/" + h)["Body"].read().decode().splitlines()[1:]:
	        u = urllib.parse.urlparse(json.loads(line)["physical_keys"][0])
	        if u.scheme == "s3" and u.netloc == bucket:
	            refs.add((urllib.parse.unquote(u.path[1:]), urllib.parse.parse_qs(u.query).get("versionId", [""])[0]))
	garbage = []
	for v in versions(".quilt/packages/"):
	    if v["Key"].split("/")[-1] not in reachable:
	        garbage.append(("manifest", v["Key"], v["VersionId"]))
	for p in packages:
	    for v in versions(p + "/"):
	        if (v["Key"], v["VersionId"]) not in refs and (v["Key"], "") not in refs:
	            garbage.append(("object", v["Key"], v["VersionId"]))
	for p in [p + "/" for p in packages] + [".quilt/"]:
	    for u in s3.list_multipart_uploads(Bucket=bucket, Prefix=p).get("Uploads", []):
	        garbage.append(("upload", u["Key"], u["UploadId"]))
	for g in sorted(garbage):
	    print(*g)
	PY
}

# listed FILE: what a gc --json document lists, in the form of expected_garbage.
listed() {
	"$QUILT_TEST_PYTHON" - "$1" <<-\PY
	import json, sys
	r = json.load(open(sys.argv[1]))
	out = [("manifest", m["key"], m["version_id"]) for m in r["manifests"]]
	out += [("object", o["key"], o["version_id"]) for o in r["objects"]]
	out += [("upload", u["key"], u["upload_id"]) for u in r["uploads"]]
	for g in sorted(out):
	    print(*g)
	PY
}

test_expect_success S3 'gc --dry-run lists exactly what no kept manifest references: the orphans' '
	expected_garbage >expect &&
	cat expect &&
	quilt gc --dry-run --older-than 0 --json --registry "$REG" >dry.json &&
	listed dry.json >actual && test_cmp expect actual &&
	grep -q "^manifest .quilt/packages/$(cat a1) " actual &&
	grep -q "^upload ns/c/big.bin " actual &&
	for version in $(sed -n "s/.*\"op\":\"done\".*\"version\":\"\([^\"]*\)\".*/\1/p" "$JOURNALS"/push-*.jsonl); do
		grep -q "^object ns/c/.* $version$" actual || { echo "journalled upload $version not listed"; return 1; }
	done &&
	! grep -e "other/keep.txt" -e "notapkg" -e "a-stray" -e " ns/a/two.bin" actual &&
	"$QUILT_TEST_PYTHON" -c "import json, sys; r = json.load(open(\"dry.json\")); assert r[\"deleted\"] is None; \
assert r[\"total_bytes\"] == sum(m[\"size\"] for m in r[\"manifests\"]) + sum(o[\"size\"] for o in r[\"objects\"])"
'

test_expect_success S3 'the listing as text: one line per item with its size, then the total; nothing deleted' '
	quilt gc --dry-run --older-than 0 --registry "$REG" >dry.txt 2>err &&
	test_line_count = $(( $(wc -l <expect) + 1 )) dry.txt &&
	grep -q "^manifest	[0-9]*	[0-9.]*	s3://$BUCKET/.quilt/packages/$(cat a1)?versionId=" dry.txt &&
	grep -q "^upload	-	[0-9.]*	s3://$BUCKET/ns/c/big.bin (upload " dry.txt &&
	sum=$(head -n -1 dry.txt | cut -f2 | grep -v "^-$" | awk "{ s += \$1 } END { print s }") &&
	tail -n 1 dry.txt | grep -q "^total	$sum	-	1 manifest version, [0-9]* object versions, 1 incomplete upload$" &&
	grep -q "^Nothing deleted (--dry-run)$" err &&
	expected_garbage >again && test_cmp expect again
'

test_expect_success S3 'with the default age (7 days) nothing just written is listed (moto dates every upload 2010)' '
	quilt gc --dry-run --json --registry "$REG" >week.json &&
	"$QUILT_TEST_PYTHON" -c "import json; r = json.load(open(\"week.json\")); assert r[\"manifests\"] == [] and r[\"objects\"] == [], r"
'

test_expect_success S3 'without --yes nothing is deleted; --dry-run and --yes together are refused' '
	quilt gc --older-than 0 --registry "$REG" >out 2>err &&
	grep -q "^Nothing deleted: give --yes to delete what is listed$" err &&
	expected_garbage >again && test_cmp expect again &&
	test_must_fail --exit=64 quilt gc --dry-run --yes --registry "$REG" 2>err &&
	grep -q "dry-run and --yes cannot go together" err &&
	test_must_fail --exit=64 quilt gc --older-than soon --registry "$REG" 2>err &&
	grep -q "^error: not a number of days from 0 to 10^14 .soon.$" err
'

test_expect_success S3 'gc --yes deletes exactly what it listed, and nothing else' '
	bucket_state | sort >before.sorted &&
	quilt gc --yes --older-than 0 --json --registry "$REG" >gc.json &&
	listed gc.json >deleted && test_cmp expect deleted &&
	bucket_state | sort >after.sorted &&
	comm -23 before.sorted after.sorted >gone && test_cmp expect gone &&
	comm -13 before.sorted after.sorted >new && test_line_count = 0 new &&
	"$QUILT_TEST_PYTHON" -c "import json; d = json.load(open(\"gc.json\"))[\"deleted\"]; assert d[\"uploads\"] == 1 and d[\"manifests\"] == 1 and d[\"spared\"] == 0, d" &&
	grep -q "^object other/keep.txt " after.sorted && grep -q "^object ns/notapkg/y.txt " after.sorted &&
	grep -q "^object ns/a-stray.txt " after.sorted
'

test_expect_success S3 'afterwards fsck --full is clean, and a second gc finds nothing' '
	quilt fsck --full --registry "$REG" >out && test_line_count = 0 out &&
	quilt gc --dry-run --older-than 0 --registry "$REG" >out &&
	test_line_count = 1 out && grep -q "^total	0	-	0 manifest versions, 0 object versions, 0 incomplete uploads$" out
'

test_expect_success S3 'fsck --full takes hashes from S3 checksums as build does; QUILT_S3_CHECKSUMS=ignore reads every object' '
	quilt fsck --full --json --registry "$REG" >sums.json &&
	QUILT_S3_CHECKSUMS=ignore quilt fsck --full --json --registry "$REG" >ignored.json &&
	"$QUILT_TEST_PYTHON" - sums.json ignored.json <<-\PY
	import json, sys
	sums, ignored = (json.load(open(p)) for p in sys.argv[1:])
	assert sums["ok"] and ignored["ok"], (sums, ignored)
	a, b = sums["checked"], ignored["checked"]
	assert a["objects"] == b["objects"] > 0, (a, b)
	assert a["objects_from_s3_checksums"] > 0 and b["objects_from_s3_checksums"] == 0, (a, b)
	assert b["objects_hashed"] == a["objects_hashed"] + a["objects_from_s3_checksums"], (a, b)
	PY
'

test_expect_success S3,QUILT3 'quilt3 installs and verifies every package afterwards' '
	quilt3_py - "$REG" <<-\PY
	import sys, quilt3
	reg = sys.argv[1]
	names = sorted(quilt3.list_packages(reg))
	assert names == ["ns/a", "ns/b", "ns/c", "ns/local"], names
	for name in names:
	    dest = "q3/" + name
	    quilt3.Package.install(name, registry=reg, dest=dest)
	    assert quilt3.Package.browse(name, registry=reg).verify(dest), name
	    print("installed and verified", name)
	PY
'

test_done
