#!/usr/bin/env bash
test_description='quilt ls: children of a directory in tree order, -l sizes and hashes (a directory'"'"'s summed), -r, --json lines, paths that are files or nothing; a manifest stored out of tree order restarts unseen, goes on, or fails clearly'
. "$(dirname "$0")/lib.sh"

# entries PREFIX COUNT: an entry stream of COUNT entries PREFIX<long name>, with S3 keys and hashes (no files).
entries() {
	"$QUILT_TEST_PYTHON" - "$1" "$2" <<-\PY
	import json, sys
	prefix, count = sys.argv[1], int(sys.argv[2])
	for i in range(count):
	    key = "%s%05d-%s" % (prefix, i, "x" * 60)
	    print(json.dumps({"logical_key": key, "physical_keys": ["s3://b/%d" % i], "size": i,
	                      "hash": {"type": "SHA256", "value": "%064x" % i}, "meta": {}}))
	PY
}

# reorder TOPHASH MODE: rewrites the stored manifest out of tree order (same bytes per line, same top hash):
# MODE swap-last swaps its last two entries, reverse reverses them, first-last moves the first one last.
reorder() {
	"$QUILT_TEST_PYTHON" - "$(local_registry)/.quilt/packages/$1" "$2" <<-\PY
	import os, sys
	path, mode = sys.argv[1:]
	lines = open(path, "rb").read().split(b"\n")
	header, body = lines[0], [l for l in lines[1:] if l]
	if mode == "swap-last":
	    body[-1], body[-2] = body[-2], body[-1]
	elif mode == "reverse":
	    body.reverse()
	else:
	    body = body[1:] + body[:1]
	os.chmod(path, 0o644)
	open(path, "wb").write(b"\n".join([header] + body) + b"\n")
	PY
}

test_expect_success 'setup: files, directories, a name in tree order (a/x before a-b)' '
	mkdir -p d/a/y d/c/d/e && printf 1 >d/a/x && printf 22 >d/a/y/w && printf 333 >d/a/y/z && printf 4444 >d/a-b &&
	printf 55555 >d/a.txt && printf 666666 >d/b.txt && printf 7777777 >d/c/d/e/f &&
	top=$(quilt build ns/p d --message one)
'

test_expect_success 'the root, a directory, a subdirectory with and without its slash' '
	quilt ls ns/p >out && printf "a/\na-b\na.txt\nb.txt\nc/\n" >expect && test_cmp expect out &&
	quilt ls ns/p a >out && printf "x\ny/\n" >expect && test_cmp expect out &&
	quilt ls ns/p a/y/ >out && printf "w\nz\n" >expect && test_cmp expect out &&
	quilt ls $top c/d >out && printf "e/\n" >expect && test_cmp expect out
'

test_expect_success '-r: every file below, by its path from the directory' '
	quilt ls ns/p -r >out && printf "a/x\na/y/w\na/y/z\na-b\na.txt\nb.txt\nc/d/e/f\n" >expect && test_cmp expect out &&
	quilt ls ns/p a -r >out && printf "x\ny/w\ny/z\n" >expect && test_cmp expect out
'

test_expect_success '-l: sizes (a directory'"'"'s is the sum below it) and hashes, as show prints them' '
	quilt ls ns/p -l >out &&
	grep -qx "           6  -  a/" out && grep -qx "           7  -  c/" out &&
	quilt show ns/p | grep " a-b$" >expect && grep " a-b$" out >actual && test_cmp expect actual &&
	quilt ls ns/p a/y -l -r >out && test_line_count = 2 out && grep -q "^           3  .*  z$" out
'

test_expect_success '--json: one object per line, names relative, logical keys from the root' '
	quilt ls ns/p a --json >out && test_line_count = 2 out &&
	"$QUILT_TEST_PYTHON" - <<-\PY
	import json
	x, y = [json.loads(l) for l in open("out")]
	assert x["name"] == "x" and x["logical_key"] == "a/x" and x["type"] == "file" and x["size"] == 1, x
	assert x["hash"]["type"] == "sha2-256-chunked" and "files" not in x, x
	assert y == {"name": "y/", "logical_key": "a/y/", "type": "directory", "size": 5, "files": 2}, y
	PY
'

test_expect_success 'a path that is a file lists it; one that is nothing fails' '
	quilt ls ns/p a/y/z >out && echo a/y/z >expect && test_cmp expect out &&
	test_must_fail --exit=1 quilt ls ns/p nope 2>err && grep -q "no such path in the package '"'"'nope'"'"'" err &&
	test_must_fail --exit=1 quilt ls ns/p a.txt/ &&
	test_must_fail --exit=1 quilt ls ns/none
'

test_expect_success 'a manifest that does not hash to its name ends the listing with an error' '
	m=$(local_registry)/.quilt/packages/$top && cp "$m" m.orig && chmod u+w "$m" &&
	sed "s/\"size\": 7,/\"size\": 8,/" m.orig >"$m" &&
	test_must_fail --exit=1 quilt ls ns/p >out 2>err && grep -q "does not hash to its name" err &&
	cp m.orig "$m"
'

test_expect_success 'out of tree order, small: the restart is unseen' '
	reorder $top reverse &&
	quilt ls ns/p -l >out && quilt ls ns/p@$top -r >out2 &&
	printf "a/x\na/y/w\na/y/z\na-b\na.txt\nb.txt\nc/d/e/f\n" >expect && test_cmp expect out2 &&
	grep -qx "           6  -  a/" out && test_line_count = 5 out
'

test_expect_success 'setup: big revisions whose disorder is found after lines were printed' '
	{ entries a/ 10000 && entries z/ 2; } >right.jsonl && right=$(quilt-write-manifest --name ns/right <right.jsonl) &&
	{ entries m/ 10000 && entries a/ 1; } >wrong.jsonl && wrong=$(quilt-write-manifest --name ns/wrong <wrong.jsonl) &&
	quilt-update-ref ns/right $right && quilt-update-ref ns/wrong $wrong &&
	quilt ls ns/right a >right.expect && quilt ls ns/wrong -r >wrong.expect &&
	reorder $right swap-last && reorder $wrong first-last
'

test_expect_success 'out of tree order after the lines printed, which were right: it goes on, nothing repeated' '
	quilt ls ns/right a >out && test_cmp right.expect out && test_line_count = 10000 out
'

test_expect_success 'out of tree order after the lines printed, which were wrong: exit 1, said clearly' '
	test_must_fail --exit=1 quilt ls ns/wrong -r >out 2>err &&
	grep -q "is stored out of tree order" err && grep -q "quilt show" err &&
	test "$(wc -c <out)" -gt 65536 && ! test_cmp wrong.expect out >/dev/null &&
	quilt show ns/wrong | tail -n +6 | sed "s/.*  //" >shown && test_cmp wrong.expect shown
'

test_done
