#!/usr/bin/env bash
test_description='sharded publishing (Documentation/sharded-publishing.md): one tree as 1 shard and as 4 concurrent shards, through --shard K/N and each job runner'"'"'s --shard auto variables, merged by quilt-write-manifest from local and s3:// part files, gives the top hash of quilt build, quilt push and quilt3; a failed shard is rerun alone'
. "$(dirname "$0")/lib.sh"

bucket=shards-$$-$RANDOM
N=4

# shard_worker K N [env assignments…]: one worker's hash step, as the doc's examples run it, into part-<tag>.jsonl
# (the list of paths is the same for every worker; only this worker's shard is read and hashed).
hash_shard() {
	local out=$1 shard=$2; shift 2
	(cd data && find . -type f | env "$@" quilt-hash-object --stdin-paths --entries --shard "$shard") >"$out"
}

# keys FILE...: the sorted logical keys of entry streams (shard trailers, which have none, left out).
keys() { cat "$@" | "$QUILT_TEST_PYTHON" -c 'import json, sys
for k in sorted(d["logical_key"] for d in map(json.loads, sys.stdin) if "logical_key" in d): print(k)'; }

test_expect_success 'setup: a tree of small and big files, nested and odd names; its single-machine top hash' '
	make_tree data &&
	quilt build t/tree data --message nightly >top &&
	test_line_count = 1 top
'

test_expect_success QUILT3 'quilt3 gives the same top hash for the tree' '
	quilt3_build_dir t/tree "$TRASH/data" nightly >q3top && test_cmp top q3top
'

test_expect_success 'one shard (0/1) is the whole tree and the same top hash' '
	hash_shard part-all.jsonl 0/1 &&
	test "$(wc -l <part-all.jsonl)" = 154 && tail -n 1 part-all.jsonl | grep -q "^{\"shard\": \"0/1\", \"entries\": 153, " &&
	quilt-write-manifest --message nightly --meta null part-all.jsonl >out && test_cmp top out
'

test_expect_success 'four shards as four concurrent processes: disjoint, complete, the same top hash' '
	for k in 0 1 2 3; do hash_shard part-$k.jsonl $k/$N & done; wait &&
	for k in 0 1 2 3; do test -s part-$k.jsonl || return 1; done &&
	keys part-0.jsonl part-1.jsonl part-2.jsonl part-3.jsonl >union && keys part-all.jsonl >all && test_cmp all union &&
	test "$(sort union | uniq -d | wc -l)" = 0 &&
	quilt-write-manifest --message nightly --meta null part-3.jsonl part-1.jsonl part-0.jsonl part-2.jsonl >out &&
	test_cmp top out &&
	cat part-2.jsonl part-0.jsonl | quilt-write-manifest --message nightly --meta null part-1.jsonl - part-3.jsonl >out &&
	test_cmp top out
'

test_expect_success 'each shard holds its keys by the documented hash: SHA-256 of the key, first 8 bytes, mod N' '
	for k in 0 1 2 3; do
		"$QUILT_TEST_PYTHON" - $k $N part-$k.jsonl <<-\PY || return 1
		import hashlib, json, sys
		k, n = int(sys.argv[1]), int(sys.argv[2])
		for line in open(sys.argv[3]):
		    if "shard" in json.loads(line): continue  # the trailer
		    key = json.loads(line)["logical_key"]
		    assert int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big") % n == k, key
		PY
	done
'

# GNU parallel, when it is installed (it is not part of the test tools).
parallel --version 2>/dev/null | grep -q "^GNU parallel" && test_set_prereq PARALLEL

test_expect_success PARALLEL 'GNU parallel: the doc'"'"'s one-machine example (8 shards, 4 at a time)' '
	seq 0 7 | parallel --will-cite -j 4 "find data -type f | quilt-hash-object --stdin-paths --entries --root data --shard {}/8 > gp-{}.jsonl" &&
	quilt-write-manifest --message nightly --meta null gp-{0..7}.jsonl >out && test_cmp top out
'

test_expect_success 'xargs -P: the same with the tools every system has' '
	seq 0 7 | xargs -P 4 -I{} sh -c "find data -type f | quilt-hash-object --stdin-paths --entries --root data --shard {}/8 > xp-{}.jsonl" &&
	quilt-write-manifest --message nightly --meta null xp-0.jsonl xp-1.jsonl xp-2.jsonl xp-3.jsonl xp-4.jsonl xp-5.jsonl xp-6.jsonl xp-7.jsonl >out &&
	test_cmp top out
'

test_expect_success '--shard auto: Kubernetes indexed Job (JOB_COMPLETION_INDEX, count passed in), concurrently' '
	for k in 0 1 2 3; do hash_shard k8s-$k.jsonl auto JOB_COMPLETION_INDEX=$k QUILT_SHARD_COUNT=$N & done; wait &&
	for k in 0 1 2 3; do cmp part-$k.jsonl k8s-$k.jsonl || return 1; done &&
	for k in 0 1 2 3; do hash_shard k8s-n-$k.jsonl auto/$N JOB_COMPLETION_INDEX=$k & done; wait &&
	for k in 0 1 2 3; do cmp part-$k.jsonl k8s-n-$k.jsonl || return 1; done &&
	test_must_fail --exit=64 env JOB_COMPLETION_INDEX=0 quilt-hash-object --entries --shard auto data/c/empty 2>err &&
	grep -q "^hint: .*QUILT_SHARD_COUNT" err
'

test_expect_success '--shard auto: AWS Batch array job (AWS_BATCH_JOB_ARRAY_INDEX and _SIZE), concurrently' '
	for k in 0 1 2 3; do hash_shard batch-$k.jsonl auto AWS_BATCH_JOB_ARRAY_INDEX=$k AWS_BATCH_JOB_ARRAY_SIZE=$N & done; wait &&
	for k in 0 1 2 3; do cmp part-$k.jsonl batch-$k.jsonl || return 1; done &&
	hash_shard batch-count.jsonl auto AWS_BATCH_JOB_ARRAY_INDEX=2 QUILT_SHARD_COUNT=$N && cmp part-2.jsonl batch-count.jsonl
'

test_expect_success '--shard auto: Slurm job array --array=1-4 (ids from 1), concurrently' '
	for k in 0 1 2 3; do
		hash_shard slurm-$k.jsonl auto SLURM_ARRAY_TASK_ID=$((k + 1)) SLURM_ARRAY_TASK_MIN=1 SLURM_ARRAY_TASK_MAX=4 \
			SLURM_ARRAY_TASK_COUNT=4 SLURM_ARRAY_TASK_STEP=1 &
	done; wait &&
	for k in 0 1 2 3; do cmp part-$k.jsonl slurm-$k.jsonl || return 1; done &&
	quilt-write-manifest --message nightly --meta null slurm-*.jsonl >out && test_cmp top out
'

test_expect_success '--shard auto: QUILT_SHARD_INDEX and QUILT_SHARD_COUNT anywhere else; --verbose says where from' '
	hash_shard generic-1.jsonl auto QUILT_SHARD_INDEX=1 QUILT_SHARD_COUNT=$N && cmp part-1.jsonl generic-1.jsonl &&
	(cd data && find . -type f | QUILT_SHARD_INDEX=1 QUILT_SHARD_COUNT=$N quilt-hash-object --stdin-paths --entries --shard auto -v 2>../err >/dev/null) &&
	grep -q "^verbose: shard 1/4 (from QUILT_SHARD_INDEX and QUILT_SHARD_COUNT)$" err &&
	test_must_fail --exit=64 quilt-hash-object --entries --shard auto data/c/empty 2>err && grep -q "no job-runner index" err &&
	test_must_fail --exit=64 quilt-hash-object --shard 1/4 data/c/empty
'

test_expect_success 'a part given twice is refused, as is a key in two plain streams: nothing is written' '
	test_must_fail --exit=65 quilt-write-manifest --registry dupreg part-0.jsonl part-0.jsonl 2>err &&
	grep -q "shard 0/4 appears twice" err && test ! -e dupreg/.quilt/packages &&
	grep -v "\"shard\"" part-0.jsonl >plain-0.jsonl &&
	test_must_fail --exit=65 quilt-write-manifest --registry dupreg plain-0.jsonl plain-0.jsonl 2>err &&
	grep -q "^error: duplicate logical key .* in '"'"'plain-0.jsonl'"'"' line [0-9]* and '"'"'plain-0.jsonl'"'"' line [0-9]*$" err &&
	test ! -e dupreg/.quilt/packages
'

test_expect_success 'publishing locally: merged parts, then update-ref, as the doc does' '
	quilt-write-manifest --registry pubreg --message nightly --meta null part-[0-3].jsonl | xargs quilt-update-ref --registry pubreg t/tree &&
	test "$(quilt-rev-parse --registry pubreg t/tree)" = "$(cat top)"
'

test_expect_success 'fetch-blob --shard: four workers materialise the package between them' '
	for k in 0 1 2 3; do quilt-cat-manifest --registry pubreg t/tree | quilt-fetch-blob --dest fetched --shard $k/$N >fetched-$k & done; wait &&
	diff -r data fetched &&
	cat fetched-0 fetched-1 fetched-2 fetched-3 | sort | uniq -d >dups && test_line_count = 0 dups &&
	test "$(cat fetched-0 fetched-1 fetched-2 fetched-3 | wc -l)" = 153
'

test_expect_success S3 'on S3: four concurrent workers hash and upload their shards, part files on S3, one merge' '
	s3_make_bucket "$bucket" --versioned &&
	for k in 0 1 2 3; do
		(
			cd data && find . -type f | quilt-hash-object --stdin-paths --entries --shard $k/$N |
				quilt-upload-blob --dest "s3://$bucket/t/tree" >../s3part-$k.jsonl &&
			quilt-upload-blob ../s3part-$k.jsonl "s3://$bucket/.parts/t/tree/run1/part-$k.jsonl" >/dev/null
		) &
	done; wait &&
	for k in 0 1 2 3; do test -s s3part-$k.jsonl || return 1; done &&
	quilt-write-manifest --registry "s3://$bucket" --message nightly --meta null \
		$(for k in 0 1 2 3; do echo "s3://$bucket/.parts/t/tree/run1/part-$k.jsonl"; done) >s3top &&
	test_cmp top s3top &&
	xargs quilt-update-ref --registry "s3://$bucket" t/tree <s3top &&
	quilt-cat-manifest --registry "s3://$bucket" t/tree | grep -c "s3://$bucket/t/tree/" >n && test "$(cat n)" = 153 &&
	# quilt push of the same tree (to another bucket: a manifest is named by its top hash, which leaves out
	# physical keys, so the same revision pushed twice to one registry keeps the last one'"'"'s keys).
	s3_make_bucket "$bucket-push" --versioned &&
	quilt push t/tree data --registry "s3://$bucket-push" --message nightly >pushtop && test_cmp top pushtop
'

test_expect_success S3 'upload-blob --shard splits one full stream between workers the same way' '
	for k in 0 1 2 3; do
		quilt-upload-blob --dest "s3://$bucket-push/t/split" --shard $k/$N <part-all.jsonl >split-$k.jsonl &
	done; wait &&
	keys split-0.jsonl split-1.jsonl split-2.jsonl split-3.jsonl >union && keys part-all.jsonl >all && test_cmp all union &&
	for k in 0 1 2 3; do keys split-$k.jsonl >a && keys part-$k.jsonl >b && test_cmp b a || return 1; done &&
	quilt-write-manifest --message nightly --meta null split-*.jsonl >out && test_cmp top out
'

test_expect_success S3 'a failed shard is rerun alone: the merge refuses its missing part, then publishes' '
	worker() {
		(cd data && find . -type f | quilt-hash-object --stdin-paths --entries --shard $1/$N |
			quilt-upload-blob --dest "s3://$bucket/t/rerun" >../rerun-$1.jsonl) &&
		quilt-upload-blob rerun-$1.jsonl "s3://$bucket/.parts/t/rerun/part-$1.jsonl" >/dev/null
	} &&
	parts() { for k in 0 1 2 3; do echo "s3://$bucket/.parts/t/rerun/part-$k.jsonl"; done; } &&
	# Merged into a scratch registry: the real one keeps t/tree'"'"'s manifest (the same top hash).
	worker 0 && worker 1 && worker 3 &&
	# Shard 2 cannot reach S3: it fails, leaving its upload journal and no part file.
	test_must_fail env AWS_ENDPOINT_URL=http://127.0.0.1:9 QUILT_S3_MAX_ATTEMPTS=1 sh -c "$(declare -f worker); N=$N bucket=$bucket worker 2" &&
	ls "$XDG_DATA_HOME"/Quilt/journal/push-*.jsonl &&
	test_must_fail --exit=1 quilt-write-manifest --registry rerunreg --message nightly --meta null $(parts) 2>err &&
	grep -q "part-2.jsonl" err &&
	worker 2 &&
	quilt-write-manifest --registry rerunreg --message nightly --meta null $(parts) >out &&
	test_cmp top out &&
	! ls "$XDG_DATA_HOME"/Quilt/journal/push-*.jsonl 2>/dev/null
'

test_expect_success S3,QUILT3 'quilt3 installs and verifies the sharded S3 publication' '
	quilt3_py - "s3://$bucket" "$(cat top)" "$TRASH/data" <<-\PY
	import sys, quilt3
	p = quilt3.Package.browse("t/tree", registry=sys.argv[1])
	assert p.top_hash == sys.argv[2], p.top_hash
	quilt3.Package.install("t/tree", registry=sys.argv[1], dest="q3copy")
	assert p.verify(sys.argv[3])
	PY
'

test_done
