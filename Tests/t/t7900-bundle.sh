#!/usr/bin/env bash
test_description='quilt bundle: create, verify, unbundle to local and S3 registries (quilt3 installs and verifies), damaged and cut-short bundles refused naming the entry, streams, deterministic output'
. "$(dirname "$0")/lib.sh"

bucket=bundle-$$-$RANDOM

# python_in ARGS...: the venv's python, script on stdin.
py() { "$QUILT_TEST_PYTHON" - "$@"; }

# flip BUNDLE FILE OUT: copies BUNDLE to OUT with one byte changed where FILE's bytes appear verbatim (a stored
# object), so only that object's hash can notice.
flip() {
	py "$@" <<-\PY
	import sys
	data = bytearray(open(sys.argv[1], "rb").read())
	needle = open(sys.argv[2], "rb").read()[4096:4160]
	at = data.find(needle)
	assert at > 0, "stored bytes not found"
	data[at + 10] ^= 0xFF
	open(sys.argv[3], "wb").write(data)
	PY
}

test_expect_success 'setup: a package with text, compressed data, duplicates, an empty file, unicode keys' '
	mkdir -p data/sub "data/dé jà" &&
	seq 1 50000 >data/numbers.csv &&
	echo same >data/one.txt && echo same >data/sub/two.txt &&
	: >data/empty &&
	echo "ü" >"data/dé jà/x+y.txt" &&
	make_file raw.bin 200000 && gzip -c raw.bin >data/sub/raw.gz &&
	make_file big.raw 9000000 && gzip -1 -c big.raw >data/big.gz &&
	top=$(quilt build t/pkg data --message "to bundle" --meta "{\"k\": 1}") &&
	echo "$top" >top
'

test_expect_success 'create writes a gzip tar: header, the manifest as stored, one member per distinct object' '
	quilt bundle create t/pkg pkg.qb --json >create.json &&
	gzip -t pkg.qb &&
	tar tzf pkg.qb >members &&
	sed -n 1,2p members >first && printf "quilt-bundle.json\nmanifest.jsonl\n" >expect && test_cmp expect first &&
	test "$(grep -c "^objects/sha2-256-chunked/[0-9a-f]\{64\}$" members)" = 6 &&
	tar xzf pkg.qb -O manifest.jsonl >bundled && quilt-cat-manifest t/pkg >stored && test_cmp stored bundled &&
	tar xzf pkg.qb -O quilt-bundle.json >header.json &&
	py "$(cat top)" <<-\PY
	import json, sys
	h = json.load(open("header.json"))
	assert h == {"format": "quilt-bundle", "version": 1, "name": "t/pkg", "top_hash": sys.argv[1], "entries": 7,
	             "objects": 6, "bytes": h["bytes"]}, h
	c = json.load(open("create.json"))
	assert c["top_hash"] == sys.argv[1] and c["objects"] == 6 and c["entries"] == 7 and c["stored_objects"] == 2, c
	assert c["compressed_bytes"] == __import__("os").path.getsize("pkg.qb"), c
	PY
'

test_expect_success 'Python tarfile reads it, and each object member is the bytes of its entries' '
	py <<-\PY
	import base64, json, tarfile, urllib.parse
	t = tarfile.open("pkg.qb", "r:gz")
	manifest = [json.loads(l) for l in t.extractfile("manifest.jsonl").read().decode().splitlines()[1:]]
	names = set(t.getnames())
	for e in manifest:
	    data = open(urllib.parse.unquote(e["physical_keys"][0][len("file://"):]), "rb").read()
	    name = "objects/sha2-256-chunked/" + base64.b64decode(e["hash"]["value"]).hex()
	    assert name in names, name
	    assert t.extractfile(name).read() == data, name
	PY
'

test_expect_success 'compressed data is stored as it is (its bytes appear verbatim), the same input gives the same bundle' '
	py <<-\PY &&
	data = open("pkg.qb", "rb").read()
	for f in ("data/sub/raw.gz", "data/big.gz"):
	    blob = open(f, "rb").read()
	    assert data.find(blob[4096:4160]) > 0, f
	assert data.find(open("data/numbers.csv", "rb").read()[1000:1064]) < 0
	PY
	quilt bundle create t/pkg again.qb && cmp pkg.qb again.qb
'

test_expect_success '--level 0 stores everything, --level 9 is no larger than 6; all verify' '
	quilt bundle create t/pkg l0.qb --level 0 && quilt bundle create t/pkg l9.qb --level 9 &&
	test $(wc -c <l0.qb) -gt $(wc -c <pkg.qb) && test $(wc -c <l9.qb) -le $(wc -c <pkg.qb) &&
	for b in l0.qb l9.qb pkg.qb; do quilt bundle verify $b >out && echo "$(cat top) t/pkg" >expect && test_cmp expect out || return 1; done &&
	quilt bundle verify pkg.qb --json >v.json && grep -q "\"ok\": true" v.json &&
	test_must_fail --exit=64 quilt bundle create t/pkg x.qb --level 10 &&
	test_must_fail --exit=64 quilt bundle create t/pkg - --json &&
	test_must_fail --exit=64 quilt bundle 2>err &&
	printf "%s\n" "error: give a subcommand: create, verify or unbundle" "hint: see '"'"'quilt bundle --help'"'"'" >expect &&
	test_cmp expect err
'

test_expect_success 'a porcelain command like the others: --help, --version, -q, help bundle' '
	quilt bundle --help >out && grep -q "^USAGE: quilt bundle" out && grep -q "create" out && grep -q "unbundle" out &&
	quilt help bundle >out && grep -q "^USAGE: quilt bundle" out &&
	quilt bundle create --help >out && grep -q "^USAGE: quilt bundle create" out && grep -q -- "--quiet" out &&
	echo "quilt 0.1.0" >expect &&
	quilt bundle --version >out && test_cmp expect out &&
	quilt bundle verify --version >out && test_cmp expect out &&
	quilt bundle verify -q pkg.qb >out 2>err && echo "$(cat top) t/pkg" >expect && test_cmp expect out && test ! -s err &&
	test_must_fail --exit=64 quilt bundle frobnicate 2>err && grep -q "^hint: see .quilt bundle --help.$" err
'

test_expect_success 'a damaged object is refused, naming its member and logical key; unbundle publishes nothing' '
	flip pkg.qb data/sub/raw.gz bad.qb &&
	test_must_fail --exit=1 quilt bundle verify bad.qb 2>err &&
	grep "^error: hash mismatch in .objects/sha2-256-chunked/[0-9a-f]*. (logical key .sub/raw.gz.)" err &&
	grep -q "^hint: " err &&
	test_must_fail --exit=1 quilt bundle unbundle bad.qb --registry badreg 2>err &&
	grep -q "sub/raw.gz" err &&
	test ! -e badreg/.quilt/named_packages && test ! -e badreg/.quilt/packages
'

test_expect_success 'a damaged byte in deflated data is refused too, naming the entry' '
	mkdir text && seq 1 200000 >text/a.csv && quilt build t/text text >/dev/null &&
	quilt bundle create t/text text.qb &&
	py <<-\PY &&
	data = bytearray(open("text.qb", "rb").read())
	data[len(data) // 2] ^= 0x55
	open("bad2.qb", "wb").write(data)
	PY
	test_must_fail quilt bundle verify bad2.qb 2>err &&
	grep "^error: \(corrupt bundle\|hash mismatch\|truncated bundle\|size mismatch\) .*(logical key .a.csv.)" err
'

test_expect_success 'a cut-short bundle is refused, naming the member it ends in' '
	size=$(wc -c <pkg.qb) &&
	head -c $((size / 2)) pkg.qb >cut.qb &&
	test_must_fail --exit=65 quilt bundle verify cut.qb 2>err &&
	grep "^error: truncated bundle: it ends in .objects/sha2-256-chunked/[0-9a-f]*. (logical key .big.gz.)" err &&
	head -c $((size - 4)) pkg.qb >cut2.qb &&
	test_must_fail --exit=65 quilt bundle verify cut2.qb 2>err && grep -q "^error: truncated bundle" err &&
	test_must_fail --exit=65 quilt bundle unbundle cut.qb --registry cutreg 2>err &&
	test ! -e cutreg/.quilt/named_packages
'

test_expect_success 'not a bundle, and extra data after the end, are refused' '
	test_must_fail --exit=65 quilt bundle verify data/numbers.csv 2>err && grep -q "^error: not a quilt bundle" err &&
	cat pkg.qb data/one.txt >trailing.qb &&
	test_must_fail --exit=65 quilt bundle verify trailing.qb 2>err && grep -q "after the end" err
'

test_expect_success 'unbundle into a local registry: same top hash, objects in .quilt/objects, installable' '
	quilt bundle unbundle pkg.qb --registry mirror >out && test_cmp top out &&
	test "$(quilt-rev-parse --registry mirror t/pkg)" = "$(cat top)" &&
	test $(find mirror/.quilt/objects -type f | wc -l) = 6 &&
	quilt-cat-manifest --registry mirror t/pkg | grep -c "file://$(cd mirror && pwd -P)/.quilt/objects/" >n && test "$(cat n)" = 7 &&
	quilt install t/pkg --registry mirror --dest copy --dest-registry installed >/dev/null && diff -r data copy &&
	quilt verify t/pkg --registry mirror --dir data >/dev/null
'

test_expect_success QUILT3 'quilt3 browses and verifies the local unbundled package' '
	quilt3_py - "$TRASH/mirror" "$(cat top)" <<-\PY
	import sys, quilt3
	p = quilt3.Package.browse("t/pkg", registry="file://" + sys.argv[1])
	assert p.top_hash == sys.argv[2]
	assert p.verify("data")
	PY
'

test_expect_success 'streams: create to standard output, verify and unbundle from standard input, --name' '
	quilt bundle create t/pkg - | quilt bundle unbundle - --registry streamed --name other/copy >out &&
	test_cmp top out && test "$(quilt-rev-parse --registry streamed other/copy)" = "$(cat top)" &&
	cat pkg.qb | quilt bundle verify - >out && echo "$(cat top) t/pkg" >expect && test_cmp expect out &&
	quilt bundle create t/pkg - >stdout.qb && cmp stdout.qb pkg.qb
'

test_expect_success 'a file changed after the build stops create, leaving no bundle' '
	mkdir -p changing && echo before >changing/f.txt && quilt build t/changing changing >/dev/null &&
	echo "after, longer" >changing/f.txt &&
	test_must_fail --exit=1 quilt bundle create t/changing changed.qb 2>err &&
	grep -q "f.txt" err && test ! -e changed.qb && ! ls .changed.qb.tmp-* 2>/dev/null
'

test_expect_success S3 'unbundle into an S3 registry: objects at <ns>/<name>/<key> with versions, same top hash' '
	s3_make_bucket "$bucket" --versioned &&
	quilt bundle unbundle pkg.qb --registry "s3://$bucket" --json >u.json &&
	grep -q "\"top_hash\": \"$(cat top)\"" u.json &&
	quilt-cat-manifest --registry "s3://$bucket" t/pkg >s3manifest &&
	grep -q "\"physical_keys\": \[\"s3://$bucket/t/pkg/big.gz?versionId=" s3manifest &&
	grep -q "\"physical_keys\": \[\"s3://$bucket/t/pkg/sub/two.txt?versionId=" s3manifest &&
	test "$(grep -c "s3://$bucket/t/pkg/" s3manifest)" = 7
'

test_expect_success S3,QUILT3 'quilt3 installs the S3 revision and verifies it against the original files' '
	quilt3_py - "s3://$bucket" "$(cat top)" <<-\PY
	import sys, quilt3
	quilt3.Package.install("t/pkg", registry=sys.argv[1], dest="q3copy")
	p = quilt3.Package.browse("t/pkg", registry=sys.argv[1])
	assert p.top_hash == sys.argv[2], p.top_hash
	assert p.verify("q3copy") and p.verify("data")
	PY
'

test_expect_success S3 'a bundle made from the S3 revision has the same top hash; unbundling again reuses objects' '
	quilt bundle create t/pkg --registry "s3://$bucket" froms3.qb &&
	quilt bundle verify froms3.qb >out && echo "$(cat top) t/pkg" >expect && test_cmp expect out &&
	quilt bundle unbundle pkg.qb --registry "s3://$bucket" --json >again.json &&
	py <<-\PY
	import json; j = json.load(open("again.json")); assert j["reused"] >= 2, j
	PY
'

test_expect_success S3 'a damaged big object aborts its multipart upload; nothing is published' '
	flip pkg.qb data/big.gz badbig.qb &&
	s3_make_bucket "$bucket-bad" &&
	test_must_fail --exit=1 quilt bundle unbundle badbig.qb --registry "s3://$bucket-bad" 2>err &&
	grep -q "logical key .big.gz." err &&
	py "$bucket-bad" <<-\PY
	import os, sys, boto3
	s3 = boto3.client("s3", endpoint_url=os.environ["QUILT_TEST_S3_ENDPOINT"])
	keys = [o["Key"] for o in s3.list_objects_v2(Bucket=sys.argv[1]).get("Contents", [])]
	assert not any(k.startswith(".quilt/") for k in keys), keys
	assert "t/pkg/big.gz" not in keys, keys
	assert not s3.list_multipart_uploads(Bucket=sys.argv[1]).get("Uploads"), "upload left open"
	PY
'

test_done
