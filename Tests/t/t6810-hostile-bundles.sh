#!/usr/bin/env bash
test_description='hostile bundles and sizes: logical keys that leave the destination refused by bundle verify and unbundle (locally and to S3) before anything is written, so quilt3 cannot be led outside its destination; headers claiming 2^50 bytes, 8 GiB and 2^62 never allocate (bounded RSS) nor leave a multipart upload open; sizes that add up past 2^63-1 end every command in exit 65, never a signal; a cut gzip trailer and a missing output directory named as such'
. "$(dirname "$0")/lib.sh"

bucket=hostile-$$-$RANDOM
hostile() { "$QUILT_TEST_PYTHON" "$REPO/Tests/t/hostile-bundle.py" "$@"; }

# bounded LIMIT_MB CMD...: runs CMD (its output to out and err) and fails if its peak RSS is over LIMIT_MB or it
# runs more than 10 s; its exit status is kept in rc.
bounded() {
	local limit=$1; shift
	"$QUILT_TEST_PYTHON" - "$limit" "$@" <<-\PY
	import resource, subprocess, sys, time
	limit = int(sys.argv[1])
	start = time.monotonic()
	with open("out", "wb") as out, open("err", "wb") as err:
	    try:
	        rc = subprocess.run(sys.argv[2:], stdout=out, stderr=err, timeout=10).returncode
	    except subprocess.TimeoutExpired:
	        sys.exit("bounded: over 10 s: %s" % sys.argv[2:])
	rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
	open("rc", "w").write("%d\n" % (rc if rc >= 0 else 128 - rc))
	print("%s: exit %d, %d MB, %.2f s" % (sys.argv[2:4], rc, rss, time.monotonic() - start), file=sys.stderr)
	sys.exit("bounded: peak RSS %d MB over %d MB" % (rss, limit) if rss > limit else 0)
	PY
}

# open_uploads: multipart uploads still open in the bucket.
open_uploads() {
	"$QUILT_TEST_PYTHON" - "$bucket" <<-\PY
	import os, sys, boto3
	s3 = boto3.client("s3", endpoint_url=os.environ["QUILT_TEST_S3_ENDPOINT"])
	for u in s3.list_multipart_uploads(Bucket=sys.argv[1]).get("Uploads", []):
	    print(u["Key"])
	PY
}

# bucket_keys: every object key in the bucket.
bucket_keys() {
	"$QUILT_TEST_PYTHON" - "$bucket" <<-\PY
	import os, sys, boto3
	s3 = boto3.client("s3", endpoint_url=os.environ["QUILT_TEST_S3_ENDPOINT"])
	for o in s3.list_objects_v2(Bucket=sys.argv[1]).get("Contents", []):
	    print(o["Key"])
	PY
}

hostile_keys='../../escape.txt /abs/x a/../../x ok/./x ..'

test_expect_success 'setup: bundles made by hand whose keys leave the destination, and one whose keys do not' '
	i=0 && for key in $hostile_keys; do hostile keys evil-$i.qb "$key" ok.txt && i=$((i + 1)) || return 1; done &&
	hostile keys good.qb ok.txt sub/fine.txt &&
	quilt bundle verify good.qb >out && grep -q " t/evil$" out
'

test_expect_success 'bundle verify refuses each hostile key (65), naming it' '
	i=0 && for key in $hostile_keys; do
		test_must_fail --exit=65 quilt bundle verify evil-$i.qb 2>err &&
		grep -q "^error: invalid logical key '"'"'$key'"'"'" err && i=$((i + 1)) || return 1
	done
'

test_expect_success 'unbundle into a local registry refuses them before anything is written' '
	i=0 && for key in $hostile_keys; do
		test_must_fail --exit=65 quilt bundle unbundle evil-$i.qb --registry "$TRASH/reg/inner" 2>err &&
		test ! -e reg && i=$((i + 1)) || return 1
	done &&
	test ! -e escape.txt && test ! -e "$TRASH/../escape.txt" &&
	quilt bundle unbundle good.qb --registry good-reg >top && test -s good-reg/.quilt/packages/$(cat top)
'

test_expect_success S3 'unbundle to S3 refuses them with nothing written to the bucket' '
	s3_make_bucket "$bucket" --versioned &&
	i=0 && for key in $hostile_keys; do
		test_must_fail --exit=65 quilt bundle unbundle evil-$i.qb --registry "s3://$bucket" 2>err &&
		grep -q "invalid logical key" err && i=$((i + 1)) || return 1
	done &&
	bucket_keys >keys && test_line_count = 0 keys
'

test_expect_success S3,QUILT3 'quilt3 installing the S3 package cannot be led outside its destination: there is no such package' '
	mkdir -p deep/one/two &&
	quilt3_py - "s3://$bucket" "$TRASH/deep/one/two/dest" <<-\PY 2>q3err &&
	import sys, quilt3
	try:
	    quilt3.Package.install("t/evil", registry=sys.argv[1], dest=sys.argv[2])
	except Exception as e:
	    print("refused:", type(e).__name__)
	else:
	    sys.exit("quilt3 installed t/evil")
	PY
	test ! -e deep/escape.txt && test ! -e deep/one/escape.txt && test ! -e escape.txt &&
	quilt bundle unbundle good.qb --registry "s3://$bucket" >top &&
	quilt3_py - "s3://$bucket" "$TRASH/deep/one/two/dest" <<-\PY &&
	import sys, quilt3
	quilt3.Package.install("t/evil", registry=sys.argv[1], dest=sys.argv[2])
	PY
	test -f deep/one/two/dest/ok.txt && test -f deep/one/two/dest/sub/fine.txt &&
	test ! -e deep/escape.txt && test ! -e deep/one/escape.txt
'

test_expect_success 'a manifest member claiming 2^50 bytes (pax size) or 8 GiB (ustar): exit 65, small and quick' '
	hostile manifest-size pax50.qb 1125899906842624 && hostile manifest-size ustar8g.qb ustar &&
	for b in pax50 ustar8g; do
		bounded 200 quilt bundle verify $b.qb && test "$(cat rc)" = 65 &&
		bounded 200 quilt bundle unbundle $b.qb --registry r-$b && test "$(cat rc)" = 65 &&
		test ! -e r-$b/.quilt/packages || return 1
	done
'

test_expect_success 'an object claiming 2^62 bytes (pax size): verify and a local unbundle read what is there and stop (65), no temporary file left' '
	hostile object huge.qb 4611686018427387904 3000000 &&
	bounded 200 quilt bundle verify huge.qb && test "$(cat rc)" = 65 && grep -q "^error: truncated bundle: it ends in '"'"'objects/" err &&
	bounded 200 quilt bundle unbundle huge.qb --registry r-huge && test "$(cat rc)" = 65 &&
	test ! -e r-huge/.quilt/packages && test -z "$(find r-huge -type f)"
'

test_expect_success S3 'unbundled to S3: refused (65) before any upload starts; nothing open, nothing published' '
	bounded 200 quilt bundle unbundle huge.qb --registry "s3://$bucket" -v && test "$(cat rc)" = 65 &&
	grep -q "^error: object too large for S3 in .*(logical key .huge.bin.): 4611686018427387904 bytes" err && ! grep -q CreateMultipartUpload err &&
	open_uploads >open && test_line_count = 0 open
'

test_expect_success S3 'an object claiming 64 MiB that holds 3 MB: its multipart upload is started, then aborted; nothing open' '
	hostile object cut64.qb 67108864 3000000 &&
	bounded 300 quilt bundle unbundle cut64.qb --registry "s3://$bucket" -v && test "$(cat rc)" = 65 &&
	grep -q CreateMultipartUpload err && grep -q AbortMultipartUpload err &&
	open_uploads >open && test_line_count = 0 open &&
	! bucket_keys | grep -q "^.quilt/named_packages/t/huge"
'

test_expect_success 'sizes that add up past 2^63-1: bundle verify, and every command on such a revision, exit 65 naming the sum' '
	hostile sizes sum.qb 4611686018427387904 4611686018427387904 &&
	bounded 200 quilt bundle verify sum.qb && test "$(cat rc)" = 65 &&
	grep -q "^error: the entries'"'"' sizes add up to more than 2^63-1 bytes at '"'"'f1'"'"'$" err &&
	hostile registry huge-reg t/huge 4611686018427387904 4611686018427387904 >top &&
	hostile registry huge-reg t/small 5 7 >/dev/null &&
	quilt-cat-manifest --registry huge-reg t/huge >huge.jsonl &&
	mkdir -p vdir &&
	for c in "quilt show t/huge" "quilt show --json t/huge" "quilt install t/huge --dest inst" \
		"quilt verify t/huge --dir vdir" "quilt diff t/huge t/small" "quilt bundle create t/huge b.qb" \
		"quilt-cat-manifest --verify t/huge" "quilt build t/copy --from t/huge" "quilt ls -l t/huge" \
		"quilt ls -r --json t/huge" "quilt cat t/huge f1"; do
		bounded 200 $c --registry huge-reg && test "$(cat rc)" = 65 &&
		grep -q "sizes add up to more than 2^63-1" err || { echo "failed: $c"; return 1; }
	done &&
	for c in "quilt-fetch-blob --dest fetched" "quilt-write-manifest --registry wm-reg"; do
		bounded 200 sh -c "$c <huge.jsonl" && test "$(cat rc)" = 65 &&
		grep -q "sizes add up to more than 2^63-1" err || { echo "failed: $c"; return 1; }
	done &&
	test ! -e b.qb && test ! -e wm-reg/.quilt/packages
'

test_expect_success 'a cut gzip trailer is named as such, not as a missing end-of-archive marker' '
	mkdir -p data && echo hello >data/a.txt && quilt build t/small-one data >/dev/null &&
	quilt bundle create t/small-one whole.qb &&
	head -c -4 whole.qb >cut.qb &&
	test_must_fail --exit=65 quilt bundle verify cut.qb 2>err &&
	grep -q "^error: truncated bundle: it ends after the end-of-archive marker, before the end of its gzip stream" err
'

test_expect_success 'bundle create into a directory that does not exist fails before any work and makes none' '
	test_must_fail --exit=1 quilt bundle create t/small-one missing/deeper/x.qb 2>err &&
	grep -q "^error: cannot write '"'"'missing/deeper/x.qb'"'"': its directory .* does not exist" err &&
	test ! -e missing
'

test_done
