#!/usr/bin/env bash
test_description='shard outputs that cannot go missing: --shard programs end their output with a trailer (shard, entry count, digest of the lines), upload-blob carries it through recomputed, write-manifest refuses parts cut short, edited, missing, doubled or of another run (exit 65, naming the shard); sharded-publishing(7)'"'"'s S3 loop with one worker'"'"'s hash-object killed with kill -9 publishes nothing; plain streams and manifests are unchanged'
. "$(dirname "$0")/lib.sh"

bucket=trailers-$$-$RANDOM
N=4

# part K [N]: worker K's hash step (the whole file list, only shard K of N hashed) into part-K.jsonl.
part() { find data -type f | quilt-hash-object --stdin-paths --entries --root data --shard "$1/${2:-$N}" >"part-$1.jsonl"; }

# check_trailer FILE: the last line is a trailer whose count and digest are those of the lines before it.
check_trailer() {
	"$QUILT_TEST_PYTHON" - "$1" <<-\PY
	import hashlib, json, sys
	lines = open(sys.argv[1], "rb").read().split(b"\n")
	assert lines[-1] == b"", "no newline at the end"
	*body, last = lines[:-1]
	t = json.loads(last)
	assert sorted(t) == ["entries", "sha256", "shard"], t
	entries = [json.loads(l) for l in body]
	assert t["entries"] == sum(1 for e in entries if "physical_keys" in e), (t, len(entries))
	assert t["sha256"] == hashlib.sha256(b"".join(l + b"\n" for l in body)).hexdigest(), t
	print(t["shard"])
	PY
}

test_expect_success 'setup: 120 files, the single-machine top hash, four parts' '
	mkdir -p data/a data/b &&
	for i in $(seq 1 100); do echo "row $i" >"data/a/f$i.csv"; done &&
	for i in $(seq 1 20); do echo "$i" >"data/b/g$i.txt"; done &&
	quilt build t/tree data --message nightly >top &&
	for k in 0 1 2 3; do part $k || return 1; done
'

test_expect_success 'each part ends with its trailer: the shard, its entry count, the SHA-256 of its lines' '
	for k in 0 1 2 3; do check_trailer part-$k.jsonl >shard && echo "$k/$N" >expect && test_cmp expect shard || return 1; done &&
	tail -n 1 part-0.jsonl | grep -q "^{\"shard\": \"0/4\", \"entries\": [0-9]*, \"sha256\": \"[0-9a-f]\{64\}\"}$" &&
	quilt-write-manifest --message nightly --meta null part-3.jsonl part-0.jsonl part-2.jsonl part-1.jsonl >out && test_cmp top out
'

test_expect_success 'plain entry streams are as they were: no trailer without --shard, and they merge as before' '
	quilt-hash-object --entries --root data data/a/f1.csv data/b/g1.txt >plain.jsonl &&
	test_line_count = 2 plain.jsonl && ! grep -q "\"shard\"" plain.jsonl &&
	find data -type f | quilt-hash-object --stdin-paths --entries --root data >all.jsonl &&
	quilt-write-manifest --message nightly --meta null all.jsonl >out && test_cmp top out &&
	quilt-write-manifest --message nightly --meta null --print part-0.jsonl part-1.jsonl part-2.jsonl part-3.jsonl >merged &&
	quilt-cat-manifest "$(cat top)" >built && test_cmp built merged
'

test_expect_success QUILT3 'the merged manifest is byte for byte quilt3'"'"'s: quilt3 reads it and gives the same top hash' '
	quilt-write-manifest --registry q3reg --message nightly --meta null part-0.jsonl part-1.jsonl part-2.jsonl part-3.jsonl >out &&
	quilt-update-ref --registry q3reg t/tree "$(cat out)" &&
	quilt3_py - "$TRASH/q3reg" <<-\PY >q3top &&
	import sys, quilt3
	print(quilt3.Package.browse("t/tree", registry="file://" + sys.argv[1]).top_hash)
	PY
	test_cmp top q3top
'

test_expect_success 'a missing part is refused naming the shard; nothing is written' '
	test_must_fail --exit=65 quilt-write-manifest --registry r1 part-0.jsonl part-1.jsonl part-3.jsonl 2>err &&
	grep -q "^error: shard 2/4 is missing" err && test ! -e r1/.quilt/packages
'

test_expect_success 'an empty part (a worker killed before it printed anything) is refused naming it and the shard' '
	: >empty-2.jsonl &&
	test_must_fail --exit=65 quilt-write-manifest --registry r1 part-0.jsonl part-1.jsonl empty-2.jsonl part-3.jsonl 2>err &&
	grep -q "^error: part '"'"'empty-2.jsonl'"'"' ends without a shard trailer, and no part is shard 2/4$" err &&
	grep -q "^hint: .*cut short" err && test ! -e r1/.quilt/packages
'

test_expect_success 'a part cut short (its last lines lost) is refused' '
	head -n 3 part-1.jsonl >cut-1.jsonl &&
	test_must_fail --exit=65 quilt-write-manifest part-0.jsonl cut-1.jsonl part-2.jsonl part-3.jsonl 2>err &&
	grep -q "^error: part '"'"'cut-1.jsonl'"'"' ends without a shard trailer, and no part is shard 1/4$" err
'

test_expect_success 'a hand-edited part (a size, a hash, a line dropped, a line added) is refused naming the shard and the file' '
	sed "1s/\"size\": [0-9]*/\"size\": 999/" part-1.jsonl >edit-size.jsonl &&
	sed "1s/\"value\": \"./\"value\": \"x/" part-1.jsonl >edit-hash.jsonl && ! cmp -s part-1.jsonl edit-hash.jsonl &&
	sed "1d" part-1.jsonl >edit-drop.jsonl &&
	{ head -n 1 part-2.jsonl; cat part-1.jsonl; } >edit-add.jsonl &&
	for edit in size hash drop add; do
		test_must_fail --exit=65 quilt-write-manifest --registry r1 part-0.jsonl edit-$edit.jsonl part-2.jsonl part-3.jsonl 2>err &&
		grep -q "^error: shard 1/4 in '"'"'edit-$edit.jsonl'"'"' does not match its trailer: " err &&
		cp err err-$edit || return 1
	done &&
	grep -q "its lines do not hash to its trailer" err-size && grep -q "its lines do not hash to its trailer" err-hash &&
	grep -q "it holds [0-9]* entries, its trailer says" err-drop && grep -q "it holds [0-9]* entries, its trailer says" err-add &&
	test ! -e r1/.quilt/packages
'

test_expect_success 'a trailer whose count was edited, or whose keys are another shard'"'"'s, is refused' '
	sed "\$s/\"entries\": [0-9]*/\"entries\": 1000/" part-1.jsonl >count.jsonl &&
	test_must_fail --exit=65 quilt-write-manifest part-0.jsonl count.jsonl part-2.jsonl part-3.jsonl 2>err &&
	grep -q "does not match its trailer: it holds [0-9]* entries, its trailer says 1000" err &&
	"$QUILT_TEST_PYTHON" - part-2.jsonl <<-\PY >relabel.jsonl &&
	import sys
	lines = open(sys.argv[1]).read().splitlines()
	print("\n".join(lines[:-1] + [lines[-1].replace("\"2/4\"", "\"1/4\"")]))
	PY
	test_must_fail --exit=65 quilt-write-manifest part-0.jsonl relabel.jsonl part-2.jsonl part-3.jsonl 2>err &&
	grep -q "it holds logical keys of other shards" err
'

test_expect_success 'a part given twice, parts of two runs (another N), lines after a trailer, a malformed trailer' '
	test_must_fail --exit=65 quilt-write-manifest part-0.jsonl part-1.jsonl part-2.jsonl part-2.jsonl part-3.jsonl 2>err &&
	grep -q "^error: shard 2/4 appears twice: in '"'"'part-2.jsonl'"'"' and in '"'"'part-2.jsonl'"'"'$" err &&
	(find data -type f | quilt-hash-object --stdin-paths --entries --root data --shard 1/8 >eight-1.jsonl) &&
	test_must_fail --exit=65 quilt-write-manifest part-0.jsonl eight-1.jsonl part-2.jsonl part-3.jsonl 2>err &&
	grep -q "is shard 1/8 but .* is shard 0/4: parts of different runs" err &&
	{ cat part-3.jsonl; head -n 1 part-1.jsonl; } >after.jsonl &&
	test_must_fail --exit=65 quilt-write-manifest part-0.jsonl part-1.jsonl part-2.jsonl after.jsonl 2>err &&
	grep -q "has lines after its last shard trailer" err &&
	for bad in "{\"shard\": \"4/4\", \"entries\": 0, \"sha256\": \"$(printf %064d 0)\"}" "{\"shard\": 1}" \
		"{\"shard\": \"-1/4\", \"entries\": 0, \"sha256\": \"$(printf %064d 0)\"}" "{\"shard\": \"1/4\", \"entries\": -1, \"sha256\": \"ab\"}"; do
		echo "$bad" >bad.jsonl &&
		test_must_fail --exit=65 quilt-write-manifest bad.jsonl 2>err &&
		grep -q "malformed shard trailer" err || return 1
	done
'

test_expect_success 'the parts of one stream joined (cat part-2 part-0 | … -) still merge, each checked against its own trailer' '
	cat part-2.jsonl part-0.jsonl | quilt-write-manifest --message nightly --meta null part-1.jsonl - part-3.jsonl >out &&
	test_cmp top out &&
	cat part-2.jsonl edit-size.jsonl | test_must_fail --exit=65 quilt-write-manifest part-0.jsonl - part-3.jsonl 2>err &&
	grep -q "^error: shard 1/4 in '"'"'standard input'"'"' does not match its trailer" err
'

# A worker whose hash-object is killed with SIGKILL: this quilt-hash-object writes its pid and becomes the real one;
# the file list it reads stays open until the kill, so it dies before it prints a trailer.
mkdir -p killbin
cat >killbin/quilt-hash-object <<EOF
#!/bin/sh
echo \$\$ >"$TRASH/hash.pid"
exec "$QUILT_BUILD_DIR/quilt-hash-object" "\$@"
EOF
chmod +x killbin/quilt-hash-object
# kill_when_started [FILE]: kills the worker's hash-object with kill -9 once it runs (and FILE, if given, is not
# empty: it has printed something), then lets its file list end.
kill_when_started() {
	rm -f hash.pid killed
	( for _ in $(seq 400); do [ -s hash.pid ] && { [ -z "${1:-}" ] || [ -s "$1" ]; } && break; sleep 0.05; done
	  sleep 0.2; kill -9 "$(cat hash.pid)"; touch killed ) &
}
# list_until_killed: the file list, held open until the kill.
list_until_killed() { find data -type f; for _ in $(seq 400); do [ -e killed ] && break; sleep 0.05; done; }

test_expect_success 'kill -9 of a worker half-way through a long list: its part has whole lines but no trailer; the merge refuses it' '
	mkdir -p data/many && for i in $(seq 1 4500); do : >"data/many/e$i"; done &&
	for k in 0 1 2 3; do part $k || return 1; done &&
	rm -f part-2.jsonl && kill_when_started part-2.jsonl &&
	list_until_killed | PATH="$TRASH/killbin:$PATH" quilt-hash-object --stdin-paths --entries --root data --shard 2/4 >part-2.jsonl
	wait &&
	test -s part-2.jsonl && ! grep -q "\"shard\"" part-2.jsonl &&
	test_must_fail --exit=65 quilt-write-manifest --registry r2 part-0.jsonl part-1.jsonl part-2.jsonl part-3.jsonl 2>err &&
	grep -q "^error: part '"'"'part-2.jsonl'"'"' ends without a shard trailer, and no part is shard 2/4$" err &&
	test ! -e r2/.quilt/packages &&
	rm -r data/many && for k in 0 1 2 3; do part $k || return 1; done
'

test_expect_success S3 'setup: a versioned bucket' '
	s3_make_bucket "$bucket" --versioned
'

# worker K: sharded-publishing(7)'s S3 loop body, as the page's older form wrote it (no pipefail); worker 2 runs
# the killed hash-object on a list held open until the kill. Its exit status goes to status-K.
worker() {
	local k=$1 list=find_list path=$PATH
	if [ "$k" = 2 ]; then list=list_until_killed path="$TRASH/killbin:$PATH"; fi
	{ $list | PATH=$path quilt-hash-object --stdin-paths --entries --root data --shard $k/4 \
		| quilt-upload-blob --dest "s3://$bucket/t/tree" >s3part-$k.jsonl &&
	  quilt-upload-blob s3part-$k.jsonl "s3://$bucket/.parts/t/tree/run1/part-$k.jsonl" >/dev/null; }
	echo $? >status-$k
}
find_list() { find data -type f; }

test_expect_success S3 'the page'"'"'s S3 loop, worker 2'"'"'s hash-object killed with kill -9: every step exits 0, and the merge refuses (65, naming shard 2), publishing nothing' '
	kill_when_started &&
	for k in 0 1 2 3; do worker $k & done; wait &&
	for k in 0 1 2 3; do test "$(cat status-$k)" = 0 || return 1; done &&
	test ! -s s3part-2.jsonl &&
	test_must_fail --exit=65 quilt-write-manifest --registry "s3://$bucket" --message nightly --meta null \
		$(for k in 0 1 2 3; do echo "s3://$bucket/.parts/t/tree/run1/part-$k.jsonl"; done) >out 2>err &&
	grep -q "^error: part '"'"'s3://$bucket/.parts/t/tree/run1/part-2.jsonl'"'"' ends without a shard trailer, and no part is shard 2/4$" err &&
	test ! -s out &&
	"$QUILT_TEST_PYTHON" - "$bucket" <<-\PY
	import os, sys, boto3
	s3 = boto3.client("s3", endpoint_url=os.environ["QUILT_TEST_S3_ENDPOINT"])
	keys = [o["Key"] for o in s3.list_objects_v2(Bucket=sys.argv[1]).get("Contents", [])]
	assert not [k for k in keys if k.startswith(".quilt/")], keys
	PY
'

test_expect_success S3 'with set -o pipefail (as the page now writes it) the killed worker fails itself; rerun alone, the merge publishes all 120 files' '
	kill_when_started &&
	bash -c "set -o pipefail; $(declare -f worker list_until_killed find_list); bucket=$bucket TRASH=$TRASH; worker 2" &&
	test "$(cat status-2)" != 0 &&
	worker 2 && test "$(cat status-2)" = 0 &&
	check_trailer s3part-2.jsonl >shard && echo 2/4 >expect && test_cmp expect shard &&
	quilt-write-manifest --registry "s3://$bucket" --message nightly --meta null \
		$(for k in 0 1 2 3; do echo "s3://$bucket/.parts/t/tree/run1/part-$k.jsonl"; done) >s3top &&
	test_cmp top s3top &&
	xargs quilt-update-ref --registry "s3://$bucket" t/tree <s3top &&
	test "$(quilt-cat-manifest --registry "s3://$bucket" t/tree | grep -c "s3://$bucket/t/tree/")" = 120
'

test_expect_success S3 'upload-blob carries the trailer through, recomputed for its new physical keys; an edited input is refused before any upload' '
	check_trailer s3part-1.jsonl >shard && echo 1/4 >expect && test_cmp expect shard &&
	test "$(tail -n 1 s3part-1.jsonl | cut -d, -f2)" = "$(tail -n 1 part-1.jsonl | cut -d, -f2)" &&
	test "$(tail -n 1 s3part-1.jsonl)" != "$(tail -n 1 part-1.jsonl)" &&
	test_must_fail --exit=65 quilt-upload-blob -v --dest "s3://$bucket/t/edited" <edit-size.jsonl 2>err &&
	grep -q "^error: shard 1/4 in '"'"'standard input'"'"' does not match its trailer" err &&
	! grep -q "PutObject\|CreateMultipartUpload" err &&
	quilt-upload-blob --dest "s3://$bucket/t/whole" --shard 3/4 <all.jsonl >split-3.jsonl &&
	check_trailer split-3.jsonl >shard && echo 3/4 >expect && test_cmp expect shard &&
	test_must_fail --exit=65 quilt-upload-blob --dest "s3://$bucket/t/x" --shard 3/4 <part-1.jsonl 2>err &&
	grep -q "holds shard 1/4, not all of the package: --shard 3/4 would leave out entries" err &&
	: | test_must_fail --exit=65 quilt-upload-blob --dest "s3://$bucket/t/x" --shard 3/4 2>err &&
	grep -q "^error: no entries on standard input for shard 3/4, and no shard trailer$" err &&
	(find data -type f | quilt-hash-object --stdin-paths --entries --root data --shard 7/1000) >empty-shard.jsonl &&
	test_line_count = 1 empty-shard.jsonl &&
	quilt-upload-blob --dest "s3://$bucket/t/x" --shard 7/1000 <empty-shard.jsonl >out &&
	check_trailer out >shard && echo 7/1000 >expect && test_cmp expect shard
'

test_expect_success 'fetch-blob checks a part against its trailer' '
	quilt-fetch-blob --dest got <part-1.jsonl >/dev/null &&
	test_must_fail --exit=65 quilt-fetch-blob --dest got2 <edit-drop.jsonl 2>err &&
	grep -q "does not match its trailer" err
'

test_done
