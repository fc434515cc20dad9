#!/usr/bin/env bash
test_description='quilt-write-manifest, quilt-cat-manifest, quilt-rev-parse'
. "$(dirname "$0")/lib.sh"

test_expect_success 'setup' '
	mkdir -p d/sub && printf "hello\n" >d/a.txt && : >d/empty.bin && printf "{\"x\":1}\n" >d/sub/b.json &&
	(cd d && find . -type f | quilt-hash-object --stdin-paths --entries) >entries
'

test_expect_success 'writes the manifest at its top hash in the local registry' '
	hash=$(quilt-write-manifest --message first <entries) &&
	test $(printf %s "$hash" | wc -c) = 64 &&
	test -f "$(local_registry)/.quilt/packages/$hash" &&
	echo "$hash" >hash
'

test_expect_success 'without --meta there is no user_meta; --meta null writes null' '
	quilt-write-manifest --print <entries | head -1 >header &&
	echo "{\"version\": \"v0\", \"message\": null}" >expect && test_cmp expect header &&
	quilt-write-manifest --print --meta null --message m <entries | head -1 >header &&
	echo "{\"version\": \"v0\", \"user_meta\": null, \"message\": \"m\"}" >expect && test_cmp expect header
'

test_expect_success '--meta @FILE and input order does not matter' '
	echo "{\"k\": [1, 2.50, 1E5]}" >meta.json &&
	a=$(quilt-write-manifest --meta @meta.json <entries) &&
	b=$(tac entries | quilt-write-manifest --meta "{\"k\": [1, 2.5, 100000.0]}") &&
	test "$a" = "$b"
'

test_expect_success '--print writes the stored bytes and stores nothing' '
	quilt-write-manifest --print --message first <entries >printed &&
	quilt-cat-manifest $(cat hash) >stored &&
	test_cmp stored printed &&
	ls "$(local_registry)/.quilt/packages" >before &&
	quilt-write-manifest --print --message other <entries >/dev/null &&
	ls "$(local_registry)/.quilt/packages" >after && test_cmp before after
'

test_expect_success 'entries without hashes are hashed' '
	sed "s/\"hash\": {[^}]*}/\"hash\": null/" entries >nohash &&
	test "$(quilt-write-manifest --message first <nohash)" = "$(cat hash)"
'

test_expect_success 'rev-parse resolves full hashes and prefixes' '
	h=$(cat hash) &&
	test "$(quilt-rev-parse $h)" = "$h" &&
	quilt-update-ref ns/pkg $h &&
	test "$(quilt-rev-parse ns/pkg@$(echo $h | cut -c1-8))" = "$h" &&
	test "$(quilt-rev-parse ns/pkg)" = "$h" &&
	test "$(quilt-rev-parse ns/pkg:latest)" = "$h" &&
	test "$(quilt-rev-parse --short ns/pkg | wc -c)" -ge 8
'

test_expect_success 'bad input: invalid JSON, bad logical keys, duplicates, file/directory collisions' '
	echo "{not json" | test_must_fail --exit=65 quilt-write-manifest 2>err && grep -q "^error: " err &&
	sed "s/\"a.txt\"/\"..\/a.txt\"/" entries | test_must_fail --exit=65 quilt-write-manifest &&
	cat entries entries | test_must_fail --exit=65 quilt-write-manifest 2>err && grep -q duplicate err &&
	sed "s/\"sub\/b.json\"/\"a.txt\/b.json\"/" entries | test_must_fail --exit=65 quilt-write-manifest 2>err &&
	grep -q "a.txt" err &&
	test_must_fail --exit=65 quilt-write-manifest --meta "{bad" <entries
'

test_expect_success 'a failed write leaves no file behind' '
	ls -A "$(local_registry)/.quilt/packages" >before &&
	echo "{\"logical_key\": \"x\", \"physical_keys\": [\"file:///nonexistent/x\"]}" | test_must_fail quilt-write-manifest &&
	ls -A "$(local_registry)/.quilt/packages" >after && test_cmp before after
'

test_expect_success 'records over QUILT_MANIFEST_MAX_RECORD_SIZE are refused' '
	QUILT_MANIFEST_MAX_RECORD_SIZE=50 test_must_fail --exit=65 quilt-write-manifest --meta "{\"k\": \"$(printf %060d 0)\"}" <entries
'

test_expect_success 'directory metadata lines are kept when they name a directory' '
	{ cat entries && echo "{\"logical_key\": \"sub/\", \"meta\": {\"k\": 1}}"; } |
	quilt-write-manifest --print >m &&
	grep -x "{\"logical_key\": \"sub/\", \"meta\": {\"k\": 1}}" m
'

# quilt3 reads any line without physical_keys as metadata of the directory holding its key (Package._load), so
# these lines would mean another package to quilt3 than they seem to: each is refused, nothing is stored.
test_expect_success 'directory metadata lines quilt3 would read differently are refused (65)' '
	ls -A "$(local_registry)/.quilt/packages" >before &&
	for line in "{\"logical_key\": \"x\", \"meta\": {\"k\": 1}}" \
		"{\"logical_key\": \"sub/x\", \"physical_keys\": [], \"meta\": {\"k\": 1}}" \
		"{\"logical_key\": \"\", \"meta\": {\"k\": 1}}" \
		"{\"logical_key\": \"/\", \"meta\": {\"k\": 1}}" \
		"{\"logical_key\": \"sub//\", \"meta\": {\"k\": 1}}" \
		"{\"logical_key\": \"a.txt/\", \"meta\": {\"k\": 1}}"
	do
		{ cat entries && echo "$line"; } | test_must_fail --exit=65 quilt-write-manifest 2>err &&
		grep -q "^error: " err || return 1
	done &&
	{ cat entries && echo "{\"logical_key\": \"x\", \"meta\": {}}"; } | test_must_fail --exit=65 quilt-write-manifest 2>err &&
	grep -q "^hint: quilt3 reads such a line as metadata of the package itself" err &&
	ls -A "$(local_registry)/.quilt/packages" >after && test_cmp before after
'

test_expect_success 'two metadata lines for one directory are refused: which one wins would depend on order' '
	{ cat entries && echo "{\"logical_key\": \"sub/\", \"meta\": {\"k\": 1}}" &&
	  echo "{\"logical_key\": \"sub/\", \"meta\": {\"k\": 2}}"; } |
	test_must_fail --exit=65 quilt-write-manifest 2>err && grep -q "duplicate directory metadata for .sub/." err
'

test_expect_success QUILT3 'quilt3 reads a line without physical_keys and without a trailing / as package metadata' '
	{ echo "{\"version\": \"v0\", \"user_meta\": {\"k\": 0}, \"message\": null}" &&
	  echo "{\"logical_key\": \"x\", \"meta\": {\"k\": 1}}"; } >odd.jsonl &&
	quilt3_py -c "import quilt3; print(quilt3.Package.load(open(\"odd.jsonl\")).meta)" >meta &&
	echo "{'"'"'k'"'"': 1}" >expect && test_cmp expect meta
'

test_expect_success 'unknown revisions and ambiguous input' '
	test_must_fail --exit=1 quilt-rev-parse ns/other 2>err && grep -q "ns/other" err &&
	test_must_fail --exit=64 quilt-rev-parse "ns/pkg@abc" &&
	test_must_fail --exit=1 quilt-cat-manifest ns/pkg:12345
'

test_done
