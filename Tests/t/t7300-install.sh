#!/usr/bin/env bash
test_description='quilt install and quilt-fetch-blob: copies verified, never outside the destination'
. "$(dirname "$0")/lib.sh"

test_expect_success 'setup' '
	mkdir -p d/sub && echo a >d/a && echo b >d/sub/b && make_file d/big 9000000 &&
	h=$(quilt build ns/pkg d --message m --registry reg)
'

test_expect_success 'install copies every file and records the revision locally' '
	quilt install ns/pkg --registry reg --dest out &&
	cmp d/a out/a && cmp d/sub/b out/sub/b && cmp d/big out/big &&
	test "$(quilt-rev-parse ns/pkg)" = "$h"
'

test_expect_success 'install --path: a subtree, or a single file at its basename' '
	quilt install ns/pkg --registry reg --dest p1 --path sub && cmp d/sub/b p1/b &&
	quilt install ns/pkg --registry reg --dest p2 --path sub/b && cmp d/sub/b p2/b &&
	test_must_fail --exit=1 quilt install ns/pkg --registry reg --dest p3 --path nope 2>err &&
	grep -q "^error: no such path in the package .nope." err && test ! -e p3
'

test_expect_success 'every argument is checked before anything is copied (exit 64)' '
	test_must_fail --exit=64 quilt install $h --registry reg --dest u1 2>err && grep -q "name" err &&
	test_must_fail --exit=64 quilt install ns/pkg --registry reg --dest file://host/x 2>err &&
	test_must_fail --exit=64 quilt install ns/pkg --registry reg --dest u2 --dest-registry ftp://x 2>err &&
	test_must_fail --exit=64 quilt install ns/pkg --registry reg --dest u3 --dest-registry "s3://Bad_Bucket!" 2>err &&
	test_line_count = 1 err &&
	test ! -e u1 && test ! -e u2 && test ! -e u3 && test ! -e host && test ! -e x
'

test_expect_success 'default destination is <local registry>/<ns>/<name>' '
	quilt install ns/pkg --registry reg && cmp d/a "$(local_registry)/ns/pkg/a"
'

test_expect_success 'a file whose bytes changed is refused and not left in place' '
	echo changed >d/a &&
	test_must_fail --exit=1 quilt install ns/pkg --registry reg --dest bad 2>err && grep -q "hash mismatch\|size mismatch" err &&
	test ! -e bad/a && echo a >d/a
'

test_expect_success 'a symbolic link in the destination is refused and named as one' '
	mkdir -p sl elsewhere && ln -s "$TRASH/elsewhere" sl/sub &&
	test_must_fail --exit=65 quilt install ns/pkg --registry reg --dest sl 2>err &&
	grep -q "^error: .*sl/sub.* is a symbolic link" err && test -z "$(ls elsewhere)"
'

test_expect_success 'a size mismatch names the size found' '
	echo "longer now" >d/a &&
	{ test_must_fail --exit=1 quilt install ns/pkg --registry reg --dest bad2 2>err; rc=$?; echo a >d/a; test $rc -eq 0; } &&
	grep -q "^error: size mismatch for .a.: expected 2 bytes, got 11$" err &&
	test ! -e bad2/a
'

test_expect_success 'installed files and directories follow the umask, as cp and mkdir do' '
	(umask 027 && quilt install ns/pkg --registry reg --dest m027) &&
	test "$(stat -c %a m027/a m027/sub m027/sub/b)" = "$(printf "640\n750\n640")" &&
	(umask 002 && quilt install ns/pkg --registry reg --dest m002) &&
	test "$(stat -c %a m002/a m002/sub m002/sub/b)" = "$(printf "664\n775\n664")"
'

test_expect_success 'a manifest this registry could not record is refused before any file is written' '
	"$QUILT_TEST_PYTHON" -c "import json; print(json.dumps({\"blob\": \"x\" * 1500000}))" >big-meta.json &&
	QUILT_MANIFEST_MAX_RECORD_SIZE=2000000 quilt build ns/bigmeta d --meta @big-meta.json --registry reg >/dev/null &&
	test_must_fail quilt install ns/bigmeta --registry reg --dest toolarge 2>err &&
	grep -q "^error: .*package metadata" err &&
	test ! -e toolarge
'

test_expect_success 'fetch-blob refuses keys that leave the destination' '
	for key in ../escape /abs/x "a/../../x" "a//b"; do
		printf "{\"logical_key\": \"%s\", \"physical_keys\": [\"file://%s/d/a\"], \"size\": 2, \"hash\": null, \"meta\": {}}\n" "$key" "$TRASH" |
			test_must_fail quilt-fetch-blob --dest fb || return 1
	done &&
	test ! -e escape && test ! -e fb/escape
'

test_expect_success 'fetch-blob does not follow a symbolic link on the way' '
	mkdir fb2 outside && ln -s "$TRASH/outside" fb2/sub &&
	quilt-cat-manifest ns/pkg --registry reg | tail -n +2 | grep "sub/b" |
		test_must_fail quilt-fetch-blob --dest fb2 &&
	test -z "$(ls outside)"
'

test_expect_success 'fetch-blob materialises an entry stream' '
	quilt-cat-manifest ns/pkg --registry reg | tail -n +2 | quilt-fetch-blob --dest fb3 >written &&
	test_line_count = 3 written && cmp d/big fb3/big
'

test_done
