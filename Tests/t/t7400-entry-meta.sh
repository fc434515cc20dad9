#!/usr/bin/env bash
test_description='--entry-meta LK=JSON|@FILE on build (and push, in t5100-range tests): set on entries added (quilt3
pkg.set(lk, path, meta=...)) and on entries of the --from revision (pkg[lk].set_meta(...)), repeatable, the last one
for a key winning; a key that names no entry is refused (exit 65) before anything is written; the top hash is
quilt3'"'"'s'
. "$(dirname "$0")/lib.sh"

test_expect_success 'setup' '
	mkdir -p data/sub && echo hello >data/a.txt && echo "{}" >data/sub/b.json && echo extra >extra.txt &&
	printf "{\"from\": \"file\", \"n\": [1, 2.5, 1e-05]}" >meta.json
'

# meta_of REV KEY: the entry'"'"'s meta as JSON.
meta_of() {
	quilt show "$1" --json | "$QUILT_TEST_PYTHON" -c "import json, sys
d = json.load(sys.stdin)
print(json.dumps([e[\"meta\"] for e in d[\"entries\"] if e[\"logical_key\"] == sys.argv[1]][0], sort_keys=True))" "$2"
}

test_expect_success 'on a directory'"'"'s entries and a --set entry, from JSON and @FILE' '
	quilt build ns/p data --set x/extra.txt=extra.txt --entry-meta "a.txt={\"k\": 1}" \
		--entry-meta "sub/b.json=@meta.json" --entry-meta "x/extra.txt=[1, \"two\"]" --message m >h1 &&
	test "$(meta_of ns/p a.txt)" = "{\"user_meta\": {\"k\": 1}}" &&
	test "$(meta_of ns/p sub/b.json)" = "{\"user_meta\": {\"from\": \"file\", \"n\": [1, 2.5, 1e-05]}}" &&
	test "$(meta_of ns/p x/extra.txt)" = "{\"user_meta\": [1, \"two\"]}"
'

test_expect_success 'the last --entry-meta for a key wins' '
	quilt build ns/last data --entry-meta "a.txt={\"k\": 1}" --entry-meta "a.txt={\"k\": 2}" >/dev/null &&
	test "$(meta_of ns/last a.txt)" = "{\"user_meta\": {\"k\": 2}}"
'

test_expect_success 'on an entry of the --from revision: only its user_meta changes' '
	sleep 1 && quilt build ns/p --from ns/p --entry-meta "a.txt={\"k\": \"new\"}" --message m2 >h2 &&
	test "$(meta_of ns/p a.txt)" = "{\"user_meta\": {\"k\": \"new\"}}" &&
	test "$(meta_of ns/p sub/b.json)" = "{\"user_meta\": {\"from\": \"file\", \"n\": [1, 2.5, 1e-05]}}" &&
	quilt diff "ns/p@$(cat h1)" "ns/p@$(cat h2)" >diff && grep -q "a.txt" diff && ! grep -q "b.json" diff
'

test_expect_success 'a key that names no entry: exit 65, nothing written (also with --from, and on a directory key)' '
	quilt-show-ref ns/p >before &&
	test_must_fail --exit=65 quilt build ns/p data --entry-meta "nope.txt={}" 2>err &&
	grep -q "^error: --entry-meta names no entry of the revision .nope.txt.$" err &&
	test_must_fail --exit=65 quilt build ns/p --from ns/p --entry-meta "sub={}" 2>err &&
	grep -q "names no entry of the revision .sub." err &&
	test_must_fail --exit=65 quilt build ns/p --from ns/p --rm a.txt --entry-meta "a.txt={}" 2>err &&
	grep -q "names no entry of the revision .a.txt." err &&
	quilt-show-ref ns/p >after && test_cmp before after
'

test_expect_success 'bad arguments: no =, invalid JSON, a missing @FILE' '
	test_must_fail --exit=64 quilt build ns/p data --entry-meta a.txt 2>err && grep -q "LK=JSON" err &&
	test_must_fail --exit=65 quilt build ns/p data --entry-meta "a.txt={nope" 2>err && grep -q "invalid metadata JSON" err &&
	test_must_fail quilt build ns/p data --entry-meta "a.txt=@missing.json"
'

test_expect_success 'push takes --entry-meta too (the option is in its help)' '
	quilt push --help | grep -q -- "--entry-meta"
'

test_expect_success QUILT3 'the top hashes equal quilt3'"'"'s set(lk, path, meta=...) and set_meta' '
	quilt3_py - "$(cat h1)" "$(cat h2)" <<-\EOF
	import json, sys, quilt3
	p = quilt3.Package()
	p.set_dir(".", "data", meta=None)
	p.set("x/extra.txt", "extra.txt")
	p.set("a.txt", "data/a.txt", meta={"k": 1})
	p.set("sub/b.json", "data/sub/b.json", meta=json.load(open("meta.json")))
	p["x/extra.txt"].set_meta([1, "two"])
	p.set_meta(None)
	p.build("q3/p", message="m")
	assert p.top_hash == sys.argv[1], (p.top_hash, sys.argv[1])
	p["a.txt"].set_meta({"k": "new"})
	p.build("q3/p", message="m2")
	assert p.top_hash == sys.argv[2], (p.top_hash, sys.argv[2])
	EOF
'

test_done
