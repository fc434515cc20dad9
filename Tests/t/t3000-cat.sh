#!/usr/bin/env bash
test_description='quilt cat: an entry'"'"'s bytes, each chunk checked before it is written; damaged files stop at the damage (exit 65); a closed pipe ends quietly; errors for keys and revisions'
. "$(dirname "$0")/lib.sh"

chunk=8388608
records="$XDG_CACHE_HOME/Quilt/objects/chunk-digests"

test_expect_success 'setup: a small file, a three-chunk file, one hashed with SHA256' '
	mkdir -p d/sub && printf "hello\n" >d/a.txt && make_file d/sub/big $((2 * chunk + 5)) &&
	make_file d/legacy 9000000 && cp d/sub/big big.orig &&
	top=$(quilt build ns/p d --message one) &&
	quilt-hash-object --type SHA256 --entries --root d d/legacy >legacy.jsonl &&
	legacy=$(quilt-write-manifest --name ns/legacy <legacy.jsonl)
'

test_expect_success 'cat prints the bytes of small and chunked entries' '
	quilt cat ns/p a.txt >out && printf "hello\n" >expect && test_cmp expect out &&
	quilt cat ns/p sub/big >out && cmp out d/sub/big &&
	quilt cat ns/p@${top:0:8} sub/big | cmp - d/sub/big &&
	quilt cat $top a.txt | cmp - d/a.txt &&
	quilt cat ns/legacy@$legacy legacy | cmp - d/legacy
'

test_expect_success 'with the cache off, no chunk-digest record is kept' '
	test ! -e "$records"
'

test_expect_success 'a closed pipe ends it quietly, with status 0' '
	quilt cat ns/p sub/big 2>err | head -c 1000 >out &&
	test "${PIPESTATUS[0]}" = 0 && test "$(wc -c <out)" = 1000 && test ! -s err
'

test_expect_success 'a file damaged after the build: exit 65 naming the key, nothing printed (no digests known)' '
	cp big.orig d/sub/big && printf X | dd of=d/sub/big bs=1 seek=$((2 * chunk + 2)) conv=notrunc 2>/dev/null &&
	test_must_fail --exit=65 quilt cat ns/p sub/big >out 2>err &&
	test ! -s out && grep -q "hash mismatch for '"'"'sub/big'"'"'" err
'

test_expect_success 'with the cache on, a first cat keeps the chunk digests; then a damaged last chunk leaves the chunks before it' '
	cp big.orig d/sub/big &&
	QUILT_DISABLE_CACHE=false quilt cat ns/p sub/big | cmp - big.orig &&
	test "$(find "$records" -type f | wc -l)" = 1 && test "$(wc -c <"$(find "$records" -type f)")" = 96 &&
	printf X | dd of=d/sub/big bs=1 seek=$((2 * chunk + 2)) conv=notrunc 2>/dev/null &&
	test_must_fail --exit=65 env QUILT_DISABLE_CACHE=false quilt cat ns/p sub/big >out 2>err &&
	test "$(wc -c <out)" = $((2 * chunk)) && cmp out big.orig -n $((2 * chunk)) &&
	grep -q "chunk 3 of 3" err
'

test_expect_success 'a damaged middle chunk, digests known: only the first chunk' '
	cp big.orig d/sub/big && printf X | dd of=d/sub/big bs=1 seek=$((chunk + 7)) conv=notrunc 2>/dev/null &&
	test_must_fail --exit=65 env QUILT_DISABLE_CACHE=false quilt cat ns/p sub/big >out 2>err &&
	test "$(wc -c <out)" = $chunk && grep -q "chunk 2 of 3" err
'

test_expect_success 'a damaged SHA256 entry prints nothing (checked whole first)' '
	cp d/legacy legacy.orig && printf X | dd of=d/legacy bs=1 seek=100 conv=notrunc 2>/dev/null &&
	test_must_fail --exit=65 quilt cat ns/legacy@$legacy legacy >out 2>err && test ! -s out &&
	cp legacy.orig d/legacy
'

test_expect_success 'a file of another size, or gone: 65, then 1' '
	cp big.orig d/sub/big && printf x >>d/sub/big &&
	test_must_fail --exit=65 quilt cat ns/p sub/big >out 2>err && test ! -s out && grep -q "size mismatch" err &&
	rm d/sub/big && test_must_fail --exit=1 quilt cat ns/p sub/big >out && test ! -s out &&
	cp big.orig d/sub/big
'

test_expect_success 'keys that are not files, revisions that are not there' '
	test_must_fail --exit=1 quilt cat ns/p nope 2>err && grep -q "no such path in the package '"'"'nope'"'"'" err &&
	test_must_fail --exit=1 quilt cat ns/p sub 2>err && grep -q "is a directory of the package" err &&
	test_must_fail --exit=1 quilt cat ns/p sub/ 2>err && grep -q "is a directory" err &&
	test_must_fail --exit=1 quilt cat ns/none a.txt &&
	test_must_fail --exit=64 quilt cat ns/p 2>err && grep -q "no logical key" err &&
	test_must_fail --exit=64 quilt cat "ns/p@zz" a.txt
'

test_expect_success 'with the cache on, build and hash-object keep the chunk digests of files of two chunks or more: a first cat streams' '
	cp big.orig d/sub/big && built="$PWD/built-cache" &&
	XDG_CACHE_HOME="$built" QUILT_DISABLE_CACHE=false quilt build ns/q d --message q >/dev/null &&
	test "$(find "$built/Quilt/objects/chunk-digests" -type f | wc -l)" = 2 &&
	cp "$(find "$built/Quilt/objects/chunk-digests" -type f -size 96c)" kept &&
	rm -rf "$built" && XDG_CACHE_HOME="$built" QUILT_DISABLE_CACHE=false quilt-hash-object d/sub/big d/a.txt >/dev/null &&
	test "$(find "$built/Quilt/objects/chunk-digests" -type f | wc -l)" = 1 &&
	cmp kept "$(find "$built/Quilt/objects/chunk-digests" -type f)" &&
	printf X | dd of=d/sub/big bs=1 seek=$((2 * chunk + 2)) conv=notrunc 2>/dev/null &&
	test_must_fail --exit=65 env XDG_CACHE_HOME="$built" QUILT_DISABLE_CACHE=false quilt cat ns/q sub/big >out 2>err &&
	test "$(wc -c <out)" = $((2 * chunk)) && cmp out big.orig -n $((2 * chunk)) && grep -q "chunk 3 of 3" err &&
	cp big.orig d/sub/big
'

test_expect_success 'a manifest that does not hash to its name is refused before any byte' '
	m=$(local_registry)/.quilt/packages/$top && cp "$m" m.orig && chmod u+w "$m" &&
	sed "s/\"message\": \"one\"/\"message\": \"two\"/" m.orig >"$m" &&
	test_must_fail quilt cat ns/p a.txt >out && test ! -s out &&
	cp m.orig "$m"
'

test_done
