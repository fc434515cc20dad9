#!/usr/bin/env bash
test_description='install from S3 through the content-addressed object cache: nothing downloaded twice, nothing damaged copied out'
. "$(dirname "$0")/lib.sh"

bucket=cache-$$-$RANDOM
reg="s3://$bucket"
cache="$XDG_CACHE_HOME/Quilt/objects"

# data_gets FILE: how many distinct package objects (not manifests or refs) the --verbose log FILE read.
data_gets() { grep "^verbose: S3 GetObject s3://$bucket/ns/" "$1" | sed "s/ → .*//" | sort -u | wc -l; }
# entries: complete cache entries (temporary files left out).
entries() { find "$cache" -type f ! -name ".*" | wc -l; }

test_expect_success S3 'setup: two revisions that differ in one file' '
	s3_make_bucket $bucket --versioned &&
	mkdir d && echo a >d/a && echo b >d/b && make_file d/big 9000000 &&
	quilt push ns/p d --registry "$reg" --message one >top1 &&
	echo b2 >d/b &&
	quilt push ns/p d --from ns/p --registry "$reg" --message two >top2
'
# lib.sh turns the cache off for every test; these are about it.
unset QUILT_DISABLE_CACHE

test_expect_success S3 'a cold install downloads every object and keeps each in the cache' '
	quilt install ns/p@$(cat top1) --registry "$reg" --dest o1 -v 2>err &&
	test "$(data_gets err)" = 3 && test "$(entries)" = 3 &&
	cmp d/a o1/a && cmp d/big o1/big
'

test_expect_success S3 'revision 2 after revision 1, one file changed: one object downloaded' '
	quilt install ns/p@$(cat top2) --registry "$reg" --dest o2 -v 2>err &&
	test "$(data_gets err)" = 1 && grep -q "GetObject s3://$bucket/ns/p/b[ ?]" err &&
	cmp d/a o2/a && cmp d/b o2/b && cmp d/big o2/big && test "$(entries)" = 4
'

test_expect_success S3 'the same revision into a second folder downloads nothing' '
	quilt install ns/p@$(cat top2) --registry "$reg" --dest o3 -v 2>err &&
	test "$(data_gets err)" = 0 && cmp d/b o3/b && cmp d/big o3/big
'

test_expect_success S3 'quilt-fetch-blob takes bytes from the cache too' '
	quilt-cat-manifest --registry "$reg" ns/p@$(cat top2) | quilt-fetch-blob --dest f1 -v 2>err &&
	test "$(data_gets err)" = 0 && cmp d/big f1/big
'

test_expect_success S3 'files already in place are kept: nothing downloaded, even with the cache off' '
	QUILT_DISABLE_CACHE=true quilt install ns/p@$(cat top2) --registry "$reg" --dest o3 -v 2>err &&
	test "$(data_gets err)" = 0 && cmp d/big o3/big &&
	echo changed >o3/a &&
	QUILT_DISABLE_CACHE=true quilt install ns/p@$(cat top2) --registry "$reg" --dest o3 -v 2>err &&
	test "$(data_gets err)" = 1 && cmp d/a o3/a
'

test_expect_success S3 'a damaged cache entry is detected, removed and fetched again, never copied out' '
	entry=$(find "$cache" -type f -size +1M) && test -n "$entry" &&
	printf X | dd of="$entry" bs=1 seek=4000000 conv=notrunc 2>/dev/null &&
	! cmp -s d/big "$entry" &&
	quilt install ns/p@$(cat top2) --registry "$reg" --dest o4 -v 2>err &&
	test "$(data_gets err)" = 1 && grep -q "GetObject s3://$bucket/ns/p/big[ ?]" err &&
	cmp d/big o4/big && cmp d/big "$entry"
'

test_expect_success S3 'a cache entry of the wrong size is removed and fetched again' '
	entry=$(find "$cache" -type f -size +1M) &&
	truncate -s 100 "$entry" &&
	quilt install ns/p@$(cat top2) --registry "$reg" --dest o5 -v 2>err &&
	test "$(data_gets err)" = 1 && cmp d/big o5/big && cmp d/big "$entry"
'

test_expect_success S3 'QUILT_DISABLE_CACHE=true: the cache is neither read nor written' '
	rm -rf "$cache" &&
	QUILT_DISABLE_CACHE=TRUE quilt install ns/p@$(cat top2) --registry "$reg" --dest o6 -v 2>err &&
	test "$(data_gets err)" = 3 && test ! -e "$cache"
'

test_expect_success S3 'two concurrent installs share one cache: both whole, every entry whole' '
	rm -rf "$cache" &&
	{ quilt install ns/p@$(cat top2) --registry "$reg" --dest c1 & p1=$!;
	  quilt install ns/p@$(cat top2) --registry "$reg" --dest c2 & p2=$!;
	  wait $p1 && wait $p2; } &&
	for o in c1 c2; do cmp d/a $o/a && cmp d/b $o/b && cmp d/big $o/big || return 1; done &&
	test "$(entries)" = 3 && test -z "$(find "$cache" -name ".*tmp-*")" &&
	quilt install ns/p@$(cat top2) --registry "$reg" --dest c3 -v 2>err &&
	test "$(data_gets err)" = 0 && cmp d/big c3/big
'

test_expect_success S3 'setup: many files, for interrupted installs' '
	mkdir many && for i in $(seq 1 300); do make_file many/f$i 40000 $i || return 1; done &&
	quilt push ns/many many --registry "$reg" --message many >/dev/null
'

# Every entry left by the killed installs must be whole: the last install re-hashes each one it copies out and
# replaces a damaged one, so an entry it changed would differ from the copy taken before it ran.
test_expect_success S3 'kill -9 during installs leaves only whole entries (and temporary files)' '
	rm -rf "$cache" &&
	for delay in 0.3 0.6 0.9 1.2 1.5; do
		{ quilt install ns/many --registry "$reg" --dest k$delay & pid=$!; } &&
		sleep $delay && kill -9 $pid; wait $pid; true
	done &&
	test "$(entries)" -gt 0 &&
	rm -rf "$cache.bak" && cp -a "$cache" "$cache.bak" &&
	quilt install ns/many --registry "$reg" --dest kall -v 2>err &&
	for i in $(seq 1 300); do cmp many/f$i kall/f$i || return 1; done &&
	for e in $(cd "$cache.bak" && find . -type f ! -name ".*"); do
		cmp "$cache.bak/$e" "$cache/$e" || return 1
	done
'

if mkdir -p "$TRASH/small" && mount -t tmpfs -o size=64k tmpfs "$TRASH/small" 2>/dev/null; then
	test_set_prereq TMPFS
fi

test_expect_success S3,TMPFS 'a full cache file system: the install succeeds without caching' '
	XDG_CACHE_HOME="$TRASH/small" quilt install ns/p@$(cat top2) --registry "$reg" --dest full -v 2>err &&
	cmp d/a full/a && cmp d/b full/b && cmp d/big full/big &&
	test -z "$(find "$TRASH/small" -type f -size +60k)" &&
	test -z "$(find "$TRASH/small" -name ".*tmp-*")" &&
	XDG_CACHE_HOME="$TRASH/small" quilt install ns/p@$(cat top2) --registry "$reg" --dest full2 -v 2>err &&
	test "$(data_gets err)" = 1 && grep -q "GetObject s3://$bucket/ns/p/big[ ?]" err && cmp d/big full2/big
'

mountpoint -q "$TRASH/small" 2>/dev/null && umount "$TRASH/small"
test_done
