#!/usr/bin/env bash
test_description='quilt mount of a revision on S3 (moto, through scripts/faultproxy.py for its request log): the tree and sizes, every file'"'"'s bytes, an object with no chunk digests known fetched once a chunk per GET, 1 MiB of a 20 MiB object read by one ranged GET of one chunk once its digests are known, chunks read by range kept in the cache until the object is whole there (a damaged kept chunk fetched again), an object cached whole read with no GET, an object that is not the entry'"'"'s bytes reads as EIO, a registry gone reads as EIO and the mount stays up'
. "$(dirname "$0")/lib.sh"
trap 'unmount_all; proxy_stop' EXIT
test_have_prereq FUSE || echo "# the FUSE tests are skipped: $FUSE_MISSING"

bucket=mount-$$-$RANDOM
chunk=8388608

# data_gets KEY: GETs of the object KEY's data in proxy.log (not GetObjectAttributes), as "STATUS BYTES" lines.
data_gets() { sed -n "s|^[0-9]* *GET /$bucket/$1?versionId -> \([0-9]*\) \([0-9]*\) bytes.*|\1 \2|p" proxy.log; }

through_proxy() { AWS_ENDPOINT_URL="$PROXY_URL" "$@"; }

test_expect_success S3,FUSE 'setup: a revision pushed with a 20 MiB object, small files and a directory' '
	s3_make_bucket $bucket --versioned &&
	mkdir -p d/sub/deep && printf "hello\n" >d/a.txt && make_file d/sub/big $((20 << 20)) &&
	printf "x,y\n1,2\n" >d/sub/deep/t.csv && make_file d/sub/deep/mid 3000000 &&
	quilt push ns/p d --registry s3://$bucket --message one --json >push.json &&
	top=$("$QUILT_TEST_PYTHON" -c "import json; print(json.load(open(\"push.json\"))[\"top_hash\"])") &&
	uri=$("$QUILT_TEST_PYTHON" -c "import json; print(json.load(open(\"push.json\"))[\"uri\"])") &&
	proxy_start
'

test_expect_success S3,FUSE 'a Quilt+ URI mounts; find lists the logical keys with the manifest'"'"'s sizes' '
	through_proxy quilt_mount m "$uri" &&
	(cd m && find . -type f -printf "%P %s\n" | LC_ALL=C sort) >actual &&
	printf "a.txt 6\nsub/big %d\nsub/deep/mid 3000000\nsub/deep/t.csv 8\n" $((20 << 20)) >expect &&
	test_cmp expect actual
'

test_expect_success S3,FUSE 'every file reads back its bytes; with no chunk digests known (moto lists no part checksums) the first read fetches the object once, a chunk per ranged GET' '
	: >proxy.log &&
	diff -r d m && cmp m/sub/big d/sub/big &&
	data_gets ns/p/sub/big | sort >gets && printf "206 %d\n206 %d\n206 %d\n" $((4 << 20)) $chunk $chunk | sort >expect &&
	test_cmp expect gets
'

test_expect_success S3,FUSE 'with the chunk digests known (the cache'"'"'s record here; GetObjectAttributes on AWS), reading 1 MiB of the 20 MiB object is one ranged GET of its first chunk' '
	quilt umount m && process_gone $MOUNT_PID &&
	QUILT_DISABLE_CACHE=false quilt cat "$uri&path=sub/big" >/dev/null &&
	test "$(find "$XDG_CACHE_HOME/Quilt/objects/chunk-digests" -type f | wc -l)" = 1 &&
	find "$XDG_CACHE_HOME/Quilt/objects/sha2-256-chunked" -type f -delete &&
	QUILT_DISABLE_CACHE=false through_proxy quilt_mount m "$uri" && : >proxy.log &&
	dd if=m/sub/big bs=1M count=1 of=part 2>/dev/null && head -c 1048576 d/sub/big | cmp - part &&
	data_gets ns/p/sub/big >gets && printf "206 %d\n" $chunk >expect && test_cmp expect gets &&
	dd if=m/sub/big bs=1M skip=17 count=1 of=part 2>/dev/null && tail -c +$((17 * 1048576 + 1)) d/sub/big | head -c 1048576 | cmp - part &&
	data_gets ns/p/sub/big >gets && printf "206 %d\n206 %d\n" $chunk $((4 << 20)) >expect && test_cmp expect gets
'

test_expect_success S3,FUSE 'chunks read by range are kept in the cache'"'"'s partial entry: once every chunk was read, the object is a cache entry and a new mount reads it with no GET' '
	objects="$XDG_CACHE_HOME/Quilt/objects/sha2-256-chunked" &&
	test "$(find "$objects" -name ".*.part" | wc -l)" = 1 && test -z "$(find "$objects" -type f ! -name ".*")" &&
	: >proxy.log && dd if=m/sub/big bs=1M skip=9 count=1 of=part 2>/dev/null &&
	tail -c +$((9 * 1048576 + 1)) d/sub/big | head -c 1048576 | cmp - part &&
	data_gets ns/p/sub/big >gets && printf "206 %d\n" $chunk >expect && test_cmp expect gets &&
	test -z "$(find "$objects" -name ".*")" && cmp "$(find "$objects" -type f)" d/sub/big &&
	quilt umount m && process_gone $MOUNT_PID &&
	QUILT_DISABLE_CACHE=false through_proxy quilt_mount m "$uri" && : >proxy.log &&
	cmp m/sub/big d/sub/big && test -z "$(data_gets ns/p/sub/big)"
'

test_expect_success S3,FUSE 'a damaged chunk of a partial entry is fetched again and written over, never read out' '
	quilt umount m && process_gone $MOUNT_PID &&
	entry=$(find "$objects" -type f) && part="$(dirname "$entry")/.$(basename "$entry").part" &&
	mv "$entry" "$part" && printf "XXXX" | dd of="$part" bs=1 seek=$((8 << 20)) conv=notrunc 2>/dev/null &&
	QUILT_DISABLE_CACHE=false through_proxy quilt_mount m "$uri" && : >proxy.log &&
	cmp m/sub/big d/sub/big &&
	data_gets ns/p/sub/big >gets && printf "206 %d\n" $chunk >expect && test_cmp expect gets &&
	cmp "$entry" d/sub/big && test ! -e "$part"
'

test_expect_success S3,FUSE 'with the object cached whole (a quilt cat with the cache on), the mount reads it from there' '
	quilt umount m && process_gone $MOUNT_PID &&
	QUILT_DISABLE_CACHE=false quilt cat "$uri&path=sub/big" >/dev/null &&
	QUILT_DISABLE_CACHE=false through_proxy quilt_mount m "$uri" && : >proxy.log &&
	cmp m/sub/big d/sub/big && test -z "$(data_gets ns/p/sub/big)" && quilt umount m && process_gone $MOUNT_PID
'

test_expect_success S3,FUSE 'an S3 object that is not the entry'"'"'s bytes reads as EIO with the key named, never wrong bytes' '
	quilt-cat-manifest "$uri" | "$QUILT_TEST_PYTHON" -c "
import json, sys
lines = sys.stdin.read().splitlines()
out = []
for line in lines[1:]:
    e = json.loads(line)
    if e.get(\"logical_key\") == \"a.txt\":
        e[\"hash\"][\"value\"] = \"A\" * 43 + \"=\"
    out.append(json.dumps(e))
open(\"entries.jsonl\", \"w\").write(\"\n\".join(out) + \"\n\")" &&
	bad=$(quilt-write-manifest --registry s3://$bucket <entries.jsonl) &&
	quilt-update-ref ns/bad $bad --registry s3://$bucket &&
	through_proxy quilt_mount m2 ns/bad --registry s3://$bucket &&
	test_must_fail cat m2/a.txt >out 2>err && test ! -s out && grep -q "Input/output error" err &&
	grep -q "hash mismatch for '"'"'a.txt'"'"'" m2.err && cmp m2/sub/deep/t.csv d/sub/deep/t.csv
'

test_expect_success S3,FUSE 'a registry that cannot be reached: EIO on the read; the mount stays up and lists' '
	proxy_stop &&
	test_must_fail timeout 120 cat m2/sub/deep/mid >out 2>err && test ! -s out && grep -q "Input/output error" err &&
	grep -q "sub/deep/mid" m2.err &&
	ls m2/sub/deep >listed && printf "mid\nt.csv\n" >expect && test_cmp expect listed && kill -0 $MOUNT_PID &&
	quilt umount m2 && process_gone $MOUNT_PID && test -z "$(ls -A m2)"
'

test_done
