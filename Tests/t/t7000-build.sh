#!/usr/bin/env bash
test_description='quilt build: directories, --set, --meta, --from, --rm, .quiltignore, errors, plumbing equivalence'
. "$(dirname "$0")/lib.sh"

test_expect_success 'setup' '
	mkdir -p data/sub data/a && printf "hello\n" >data/a.txt && : >data/empty.bin &&
	printf "{\"x\":1}\n" >data/sub/b.json && echo x >data/a/x && echo c >data/a-c
'

test_expect_success 'build prints the top hash and moves latest' '
	quilt build ns/pkg data --message first >out &&
	h=$(cat out) && test $(printf %s "$h" | wc -c) = 64 &&
	test "$(quilt-rev-parse ns/pkg)" = "$h"
'

test_expect_success 'the manifest is in tree order, user_meta null without --meta' '
	quilt-cat-manifest ns/pkg >m &&
	head -1 m >header && echo "{\"version\": \"v0\", \"user_meta\": null, \"message\": \"first\"}" >expect &&
	test_cmp expect header &&
	sed -n "s/^{\"logical_key\": \"\([^\"]*\)\".*/\1/p" m >keys &&
	printf "a/x\na-c\na.txt\nempty.bin\nsub/b.json\n" >expect && test_cmp expect keys
'

test_expect_success 'build equals the plumbing pipeline' '
	quilt build ns/pipe data --message same --meta "{\"k\": 1}" >porcelain &&
	(cd data && find . -type f | quilt-hash-object --stdin-paths --entries) |
		quilt-write-manifest --message same --meta "{\"k\": 1}" >plumbing &&
	test_cmp porcelain plumbing &&
	xargs quilt-update-ref ns/pipe2 <plumbing && test "$(quilt-rev-parse ns/pipe2)" = "$(cat porcelain)"
'

test_expect_success '--json' '
	quilt build ns/pkg data --message first --json >out &&
	"$QUILT_TEST_PYTHON" -c "import json,sys; d=json.load(open(\"out\")); assert set(d)=={\"name\",\"top_hash\",\"registry\",\"timestamp\",\"workflow\",\"s3_hashing\"}, d; assert d[\"workflow\"] is False; assert d[\"name\"]==\"ns/pkg\"; assert d[\"s3_hashing\"]=={\"objects\": 0, \"from_checksums\": 0, \"read\": 0, \"bytes_downloaded\": 0}, d"
'

test_expect_success '--set adds files, --from keeps, replaces and removes entries' '
	echo extra >extra.txt &&
	quilt build ns/pkg --from ns/pkg --set docs/extra.txt=extra.txt --rm a.txt --message second >h2 &&
	quilt show ns/pkg --json >show &&
	"$QUILT_TEST_PYTHON" -c "
import json
d = json.load(open(\"show\"))
keys = [e[\"logical_key\"] for e in d[\"entries\"]]
assert keys == [\"a/x\", \"a-c\", \"docs/extra.txt\", \"empty.bin\", \"sub/b.json\"], keys
assert d[\"message\"] == \"second\" and d[\"user_meta\"] is None
"
'

test_expect_success '--from with DIR: files in DIR replace entries with the same key' '
	mkdir upd && echo changed >upd/a.txt &&
	quilt build ns/pkg upd --from ns/pkg --message third &&
	quilt show ns/pkg --json >show &&
	grep -q "\"a.txt\"" show && grep -q "docs/extra.txt" show
'

test_expect_success '.quiltignore is honoured' '
	mkdir ign && echo a >ign/keep.csv && echo b >ign/skip.log && mkdir ign/tmp && echo c >ign/tmp/x &&
	printf "*.log\ntmp/\n" >ign/.quiltignore &&
	quilt build ns/ign ign && quilt show ns/ign --json >show &&
	grep -q keep.csv show && ! grep -q skip.log show && ! grep -q tmp/x show
'

test_expect_success 'errors: invalid name, missing directory or file, bad metadata, key collisions' '
	test_must_fail --exit=65 quilt build bad-name data 2>err && grep -q "bad-name" err && test_line_count = 1 err &&
	test_must_fail --exit=1 quilt build ns/x nope 2>err && grep -q "nope" err &&
	test_must_fail --exit=1 quilt build ns/x --set k=missing.txt 2>err && grep -q "missing.txt" err &&
	test_must_fail --exit=65 quilt build ns/x data --meta "{oops" 2>err && grep -q "metadata" err &&
	test_must_fail --exit=65 quilt build ns/x data --set a.txt/y=extra.txt 2>err &&
	test_must_fail --exit=65 quilt build ns/x data --set ../up=extra.txt &&
	test_must_fail --exit=65 quilt build ns/x --meta "[NaN]" &&
	test_must_fail --exit=1 quilt build ns/x --from ns/nothing
'

test_expect_success 'a file name that is not UTF-8 is refused and shown escaped; nothing is written' '
	mkdir -p names/sub && echo a >names/a && echo b >"names/$(printf "bad\377name")" &&
	echo c >"names/sub/$(printf "sur\355\240\200x")" &&
	find "$(local_registry)" -type f | sort >before &&
	test_must_fail --exit=65 quilt build ns/names names 2>err &&
	grep -q "^error: .*names/bad\\\\xffname" err && grep -q "^hint: .*--skip-unreadable-names" err &&
	test_must_fail --exit=65 quilt build ns/names --set k=names/sub 2>err &&
	grep -q "^error: .*names/sub/sur\\\\xed\\\\xa0\\\\x80x" err &&
	find "$(local_registry)" -type f | sort >after && test_cmp before after
'

test_expect_success '--skip-unreadable-names leaves them out, with a warning naming each' '
	quilt build ns/names names --skip-unreadable-names >out 2>err &&
	grep -q "^warning: .*names/bad\\\\xffname" err && grep -q "^warning: .*names/sub/sur\\\\xed\\\\xa0\\\\x80x" err &&
	test_line_count = 2 err &&
	quilt show ns/names --json >show &&
	"$QUILT_TEST_PYTHON" -c "import json; assert [e[\"logical_key\"] for e in json.load(open(\"show\"))[\"entries\"]] == [\"a\"]"
'

test_expect_success 'arguments that are not UTF-8 are bad input, never silently changed' '
	find "$(local_registry)" -type f | sort >before &&
	test_must_fail --exit=65 quilt build ns/u data --message "$(printf "a\377b")" 2>err &&
	grep -q "^error: .*not valid UTF-8 .*a\\\\xffb" err &&
	test_must_fail --exit=65 quilt build ns/u data --meta "{\"k\": \"$(printf "\377")\"}" 2>err &&
	grep -q "\\\\xff" err &&
	test_must_fail --exit=65 quilt build ns/u data --set "$(printf "k\377")=data/a.txt" 2>err &&
	test_must_fail --exit=65 quilt build ns/u data "--message=$(printf "\355\240\200")" 2>err &&
	grep -q "\\\\xed\\\\xa0\\\\x80" err &&
	test_must_fail --exit=65 quilt-write-manifest --message "$(printf "\377")" </dev/null &&
	find "$(local_registry)" -type f | sort >after && test_cmp before after
'

test_expect_success 'a failed build writes nothing' '
	find "$(local_registry)" -type f | sort >before &&
	test_must_fail quilt build ns/x data --set k=missing.txt &&
	find "$(local_registry)" -type f | sort >after && test_cmp before after
'

test_expect_success 'an unreadable file fails the build' '
	if test "$(id -u)" != 0; then
		echo secret >data2 && chmod 000 data2 && test_must_fail --exit=1 quilt build ns/x --set k=data2
	fi
'

# as_unprivileged CMD...: CMD as user nobody when we are root (root is never refused a permission), else as is.
as_unprivileged() {
	if test "$(id -u)" = 0; then setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; else "$@"; fi
}
if test "$(id -u)" != 0 || command -v setpriv >/dev/null; then test_set_prereq PERMISSIONS; fi

test_expect_success PERMISSIONS 'a registry that cannot be entered is reported as such, not as its workflow file' '
	chmod 755 "$TRASH" && chmod -R a+rX data && mkdir closed && chmod 000 closed &&
	test_must_fail --exit=1 as_unprivileged quilt build ns/np data --registry closed 2>err &&
	grep -q "^error: cannot read registry .*closed.*: Permission denied" err && ! grep -q workflows err &&
	mkdir readonly && chmod 555 readonly &&
	test_must_fail --exit=1 as_unprivileged quilt build ns/np data --registry readonly 2>err &&
	grep -q "^error: cannot write .*readonly.*: Permission denied" err && ! grep -q workflows err
'

test_expect_success 'a registry with quilt3 workflows checks and stamps the revision' '
	mkdir -p wfreg/.quilt/workflows &&
	printf "version: \"1\"\nworkflows:\n  main: {name: Main, is_message_required: true}\ndefault_workflow: main\n" \
		>wfreg/.quilt/workflows/config.yml &&
	test_must_fail --exit=65 quilt build ns/wf data --registry wfreg 2>err &&
	grep -q "^error: message fails workflow .main." err && grep -q "^hint: give --message" err &&
	test ! -d wfreg/.quilt/packages &&
	quilt build ns/wf data --registry wfreg --message m >top &&
	quilt-cat-manifest --registry wfreg "$(cat top)" | head -n 1 >header &&
	grep -q "\"workflow\": {\"id\": \"main\", \"config\": \"file://" header
'

test_done
