#!/usr/bin/env bash
test_description='reading from S3 (moto): push --json has the revision'"'"'s Quilt+ URI; cat, ls and install by it; the object cache read first and filled by a whole read; a damaged cached copy gives way to S3; an object that is not the entry'"'"'s prints nothing; push --from a URI'
. "$(dirname "$0")/lib.sh"

bucket=reading-$$-$RANDOM
other=reading-other-$$-$RANDOM
chunk=8388608
cache="$XDG_CACHE_HOME/Quilt/objects"

# data_gets FILE: GetObject requests of package data (not manifests or refs) in the --verbose log FILE.
data_gets() { grep "^verbose: S3 GetObject s3://$bucket/ns/" "$1" | wc -l; }

test_expect_success S3 'setup: a revision pushed with a small and a three-chunk file' '
	s3_make_bucket $bucket --versioned && s3_make_bucket $other --versioned &&
	mkdir -p d/sub && printf "hello\n" >d/a.txt && make_file d/sub/big $((2 * chunk + 5)) &&
	quilt push ns/p d --registry s3://$bucket --message one --json >push.json &&
	top=$("$QUILT_TEST_PYTHON" -c "import json; print(json.load(open(\"push.json\"))[\"top_hash\"])") &&
	uri=$("$QUILT_TEST_PYTHON" -c "import json; print(json.load(open(\"push.json\"))[\"uri\"])")
'

test_expect_success S3 'push --json: uri is quilt+s3://BUCKET#package=NAME@TOPHASH, after the older keys' '
	test "$uri" = "quilt+s3://$bucket#package=ns/p@$top" &&
	"$QUILT_TEST_PYTHON" -c "import json; k = list(json.load(open(\"push.json\"))); assert k.index(\"uri\") > k.index(\"s3_hashing\"), k"
'

test_expect_success S3 'cat by URI reads S3 (ranged GETs of the chunks), the cache off' '
	quilt cat "$uri&path=sub/big" -v >out 2>err && cmp out d/sub/big &&
	test "$(data_gets err)" -ge 3 && test ! -e "$cache" &&
	quilt cat "quilt+s3://$bucket#package=ns/p" a.txt >out && cmp out d/a.txt &&
	quilt cat "$uri&path=sub/big" | head -c 10 >out && test "$(wc -c <out)" = 10
'

test_expect_success S3 'ls and install by URI' '
	quilt ls "$uri" >out && printf "a.txt\nsub/\n" >expect && test_cmp expect out &&
	quilt ls "$uri&path=sub" -l >out && grep -q "^    16777221  .*  big$" out &&
	quilt install "$uri&path=sub" --dest inst && cmp inst/big d/sub/big && test ! -e inst/a.txt
'

test_expect_success S3 'with the cache on: a whole read fills it, and the next read does not touch S3 for data' '
	QUILT_DISABLE_CACHE=false quilt cat "$uri" sub/big >out && cmp out d/sub/big &&
	test "$(find "$cache/sha2-256-chunked" -type f ! -name ".*" | wc -l)" = 1 &&
	test "$(find "$cache/chunk-digests" -type f | wc -l)" = 1 &&
	QUILT_DISABLE_CACHE=false quilt cat "$uri" sub/big -v >out 2>err && cmp out d/sub/big &&
	test "$(data_gets err)" = 0
'

test_expect_success S3 'a damaged cached copy gives way to S3 at the damaged chunk, and is removed' '
	entry=$(find "$cache/sha2-256-chunked" -type f ! -name ".*") &&
	printf X | dd of="$entry" bs=1 seek=$((2 * chunk + 1)) conv=notrunc 2>/dev/null &&
	QUILT_DISABLE_CACHE=false quilt cat "$uri" sub/big -v >out 2>err && cmp out d/sub/big &&
	test "$(data_gets err)" = 1 && test ! -e "$entry"
'

test_expect_success S3 'an object that is not the entry'"'"'s: exit 65, nothing printed' '
	quilt-cat-manifest ns/p@$top --registry s3://$bucket | tail -n +2 |
		sed "s/\"logical_key\": \"a.txt\"/\"logical_key\": \"wrong\"/; s/\"logical_key\": \"sub\/big\"/\"logical_key\": \"big2\"/" >entries.jsonl &&
	"$QUILT_TEST_PYTHON" - <<-\PY &&
	import json
	lines = [json.loads(l) for l in open("entries.jsonl")]
	for e in lines:
	    # The hash of another object: the bytes read are not these.
	    e["hash"]["value"] = "A" * 43 + "="
	open("entries.jsonl", "w").write("".join(json.dumps(e) + "\n" for e in lines))
	PY
	bad=$(quilt-write-manifest --registry s3://$bucket <entries.jsonl) &&
	test_must_fail --exit=65 quilt cat $bad big2 --registry s3://$bucket >out 2>err && test ! -s out &&
	grep -q "hash mismatch for '"'"'big2'"'"'" err &&
	test_must_fail --exit=65 quilt cat $bad wrong --registry s3://$bucket >out && test ! -s out
'

# (A function: a `return` in a test body would leave test_expect_success itself.)
# $@: sizes to record for the three-chunk object; each read must fail naming the size found, printing nothing.
cat_wrong_sizes() {
    local wrong sized
    for wrong in "$@"; do
        quilt-cat-manifest ns/p@$top --registry s3://$bucket | tail -n +2 | grep "sub/big" |
            sed "s/\"size\": *[0-9]*/\"size\": $wrong/" >sized.jsonl &&
        sized=$(quilt-write-manifest --registry s3://$bucket <sized.jsonl) &&
        test_must_fail --exit=65 quilt cat $sized sub/big --registry s3://$bucket >out 2>err && test ! -s out &&
        grep -q "^error: size mismatch for .sub/big.: expected $wrong bytes, found $((2 * chunk + 5))$" err ||
            { cat err; return 1; }
    done
}

# One byte short: every range comes back whole (the object goes on past them). One chunk over: the last range
# starts past the object's end, which S3 refuses (416).
test_expect_success S3 'an entry whose recorded size is wrong: exit 65 naming the size found, nothing printed' '
	cat_wrong_sizes $((2 * chunk + 4)) $((3 * chunk + 5))
'

test_expect_success S3 'push --from a URI publishes to its bucket; with another --registry it is a promotion there; with another --from-registry a usage error' '
	printf new >n.txt &&
	quilt push ns/p --from "$uri" --set n.txt=n.txt --message two --json >two.json &&
	grep -q "\"registry\": \"s3://$bucket\"" two.json &&
	quilt ls "quilt+s3://$bucket#package=ns/p" >out && printf "a.txt\nn.txt\nsub/\n" >expect && test_cmp expect out &&
	quilt push ns/p --from "$uri" --registry s3://$other --json >promoted.json &&
	grep -q "\"registry\": \"s3://$other\"" promoted.json &&
	quilt ls "quilt+s3://$other#package=ns/p" -r >out && quilt ls "$uri" -r >expect && test_cmp expect out &&
	test_must_fail --exit=64 quilt push ns/p --from "$uri" --from-registry s3://$other --registry s3://$other 2>err &&
	grep -q "names the registry" err
'

test_done
