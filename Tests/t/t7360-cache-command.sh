#!/usr/bin/env bash
test_description='quilt cache: size, list, verify, prune by age and to a size budget; cache_max_size after installs'
. "$(dirname "$0")/lib.sh"

cache="$XDG_CACHE_HOME/Quilt/objects"

# put_entry FILE [DAYS_AGO]: places FILE in the cache as install would, last used DAYS_AGO days ago; prints its path.
put_entry() {
	hex=$(quilt-hash-object "$1" | base64 -d | od -An -tx1 | tr -d " \n") &&
	dir="$cache/sha2-256-chunked/${hex:0:2}" && mkdir -p "$dir" && cp "$1" "$dir/${hex:2}" &&
	touch -d "${2:-0} days ago" "$dir/${hex:2}" && echo "$dir/${hex:2}"
}

test_expect_success 'setup: three entries of 1000, 2000 and 3000 bytes, used 30, 10 and 0 days ago' '
	make_file e1 1000 1 && make_file e2 2000 2 && make_file e3 3000 3 &&
	p1=$(put_entry e1 30) && p2=$(put_entry e2 10) && p3=$(put_entry e3 0) &&
	test -f "$p1" && test -f "$p3"
'

test_expect_success 'size counts entries and bytes; temporary files are not entries' '
	: >"$(dirname "$p1")/.x.tmp-ABCDEF" &&
	quilt cache size >out && grep -q "^3 entries, 6000 bytes in $cache$" out &&
	quilt cache size --json >out.json &&
	grep -q "\"entries\": 3" out.json && grep -q "\"bytes\": 6000" out.json
'

test_expect_success 'list: least recently used first, with type, hex digest, size' '
	quilt cache list >out && test_line_count = 3 out &&
	test "$(cut -d" " -f3 out | tr "\n" " ")" = "1000 2000 3000 " &&
	grep -q "^sha2-256-chunked [0-9a-f]\{64\} 1000 " out
'

test_expect_success 'verify removes an entry whose bytes do not match its name, and stale temporary files' '
	touch -d "2 hours ago" "$(dirname "$p1")/.x.tmp-ABCDEF" &&
	: >"$(dirname "$p2")/.y.tmp-GHIJKL" &&
	printf X | dd of="$p2" bs=1 seek=10 conv=notrunc 2>/dev/null &&
	quilt cache verify >out && grep -q "^Checked 3 entries; removed 1 (2000 bytes) and 1 temporary files$" out &&
	test ! -e "$p2" && test -f "$p1" && test -f "$p3" &&
	test ! -e "$(dirname "$p1")/.x.tmp-ABCDEF" && test -e "$(dirname "$p2")/.y.tmp-GHIJKL"
'

test_expect_success 'prune --older-than removes entries unused for that many days' '
	p2=$(put_entry e2 10) &&
	quilt cache prune --older-than 20 >out && grep -q "removed 1 (1000 bytes)" out &&
	test ! -e "$p1" && test -f "$p2" && test -f "$p3"
'

test_expect_success 'prune --max-size removes the least recently used first' '
	p1=$(put_entry e1 30) &&
	quilt cache prune --max-size 4000 --json >out.json &&
	grep -q "\"removed_bytes\": 3000" out.json &&
	test ! -e "$p1" && test ! -e "$p2" && test -f "$p3" &&
	quilt cache prune --max-size 3K && test -f "$p3" &&
	quilt cache prune --max-size 0 && test ! -e "$p3"
'

# A partial entry as a ranged read leaves it: a sparse file of the object's size (100 MiB) holding one chunk's worth
# of bytes, written just now (one not written to for an hour is a stale temporary file instead).
test_expect_success 'partial entries: counted by size as the disk they take, not listed, pruned to the budget' '
	p3=$(put_entry e3 1) &&
	mkdir -p "$cache/sha2-256-chunked/ab" &&
	part="$cache/sha2-256-chunked/ab/.$(printf "%062d" 7).part" &&
	truncate -s 100M "$part" && dd if=/dev/urandom of="$part" bs=65536 count=1 seek=128 conv=notrunc 2>/dev/null &&
	taken=$(( $(stat -c %b "$part") * $(stat -c %B "$part") )) && test "$taken" -lt 1048576 &&
	quilt cache size >out && grep -q "^1 entry, 3000 bytes; 1 partial entry, $taken bytes in $cache$" out &&
	quilt cache size --json >out.json &&
	grep -q "\"partial_entries\": 1" out.json && grep -q "\"partial_bytes\": $taken" out.json &&
	quilt cache list >out && test_line_count = 1 out &&
	quilt cache prune --max-size $taken >out && grep -q "removed 1 (3000 bytes)" out &&
	test ! -e "$p3" && test -f "$part" &&
	quilt cache prune --max-size 1000 --json >out.json &&
	grep -q "\"partial\": true" out.json && grep -q "\"digest\": \"ab$(printf "%062d" 7)\"" out.json &&
	test ! -e "$part"
'

test_expect_success 'usage errors: exit 64, one line' '
	test_must_fail --exit=64 quilt cache frob 2>err && grep -q "^error: unknown action .frob." err &&
	test_must_fail --exit=64 quilt cache size --max-size 1 2>err && grep -q "go with prune" err &&
	test_must_fail --exit=64 quilt cache prune --max-size lots 2>err && grep -q "^error: not a size .lots." err &&
	test_must_fail --exit=64 quilt cache prune --older-than=-1 2>err && grep -q "^error: not a number of days" err &&
	test_must_fail --exit=64 quilt cache prune 2>err && grep -q "cache_max_size" err &&
	test_must_fail --exit=64 quilt config cache_max_size lots 2>err && grep -q "^error: invalid value for .cache_max_size." err
'

test_expect_success 'cache_max_size: set like any key, used by prune with no limit' '
	quilt config cache_max_size 3500 && test "$(quilt config cache_max_size)" = 3500 &&
	p1=$(put_entry e1 30) && p3=$(put_entry e3 0) &&
	quilt cache prune && test ! -e "$p1" && test -f "$p3" &&
	quilt config cache_max_size null
'

bucket=cachecmd-$$-$RANDOM
test_expect_success S3 'cache_max_size is applied after an install (least recently used first)' '
	unset QUILT_DISABLE_CACHE &&
	s3_make_bucket $bucket && rm -rf "$cache" &&
	mkdir d && make_file d/x 100000 7 && make_file d/y 100000 8 &&
	quilt push ns/p d --registry "s3://$bucket" --message m >/dev/null &&
	old=$(put_entry e1 30) &&
	quilt config cache_max_size 200000 &&
	quilt install ns/p --registry "s3://$bucket" --dest o &&
	test ! -e "$old" && test "$(quilt cache size --json | sed "s/.*\"entries\": \([0-9]*\).*/\1/")" = 2 &&
	quilt config cache_max_size null
'

test_done
