#!/usr/bin/env bash
test_description='quilt fsck on a local registry: a clean registry exits 0; dangling pointers, a changed manifest,
a missing file, a file of another size and one rewritten with its size kept are each named (package, revision,
key), and nothing else; an object named by many entries is checked once; a manifest stored out of tree order (which
quilt3 reads) is a warning; NAME..., --json, progress on a terminal; nothing is written to the registry'
. "$(dirname "$0")/lib.sh"

# fields FILE: the problem, package, revision and key of each line of a fsck report, sorted.
fields() { cut -f1-4 "$1" | sort; }
# snapshot: every file of the registry with its checksum.
snapshot() { (cd reg && find . -type f -print0 | sort -z | xargs -0 sha256sum); }

test_expect_success 'setup: two packages, three revisions, files shared between them' '
	make_file d/a.txt 100 a && make_file d/sub/b.bin 5000 b && make_file d/sub/c.csv 300 c &&
	make_file d/big.bin $((9 * 1048576)) big &&
	quilt build t/one d --registry reg --message first >r1 &&
	sleep 1 && make_file d/sub/new.txt 10 new &&
	quilt build t/one d --registry reg --message second >r2 &&
	quilt build t/two d --registry reg --message second >r3 &&
	test "$(cat r2)" = "$(cat r3)"
'

test_expect_success 'a clean registry: exit 0, no output, a summary on stderr; every object checked once' '
	quilt fsck --full --registry reg >out 2>err &&
	test_line_count = 0 out &&
	echo "Checked 5 pointers, 2 manifests, 5 objects (9 entries): 0 problems" >expect && test_cmp expect err &&
	quilt fsck -q --registry reg >out 2>err && test ! -s out && test ! -s err
'

test_expect_success 'damage: pointers, a manifest, three files' '
	printf "%064d" 5 >reg/.quilt/named_packages/t/two/1600000000 &&
	echo "not a hash" >reg/.quilt/named_packages/t/two/1600000001 &&
	cp reg/.quilt/packages/$(cat r1) r1.manifest &&
	sed -i "s/\"message\": \"first\"/\"message\": \"fist\"/" reg/.quilt/packages/$(cat r1) &&
	! cmp -s r1.manifest reg/.quilt/packages/$(cat r1) &&
	rm d/a.txt && make_file d/sub/b.bin 5001 b && make_file d/big.bin $((9 * 1048576)) big-rewritten
'

test_expect_success 'fsck --full names each problem once per revision that has it, and nothing else' '
	test_must_fail --exit=1 quilt fsck --full --registry reg >out 2>err &&
	cat >expect <<-EOF &&
	corrupt manifest	t/one	$(cat r1)	.quilt/packages/$(cat r1)
	dangling pointer	t/two	1600000000	.quilt/named_packages/t/two/1600000000
	dangling pointer	t/two	1600000001	.quilt/named_packages/t/two/1600000001
	hash mismatch	t/one	$(cat r2)	big.bin
	missing object	t/one	$(cat r2)	a.txt
	size mismatch	t/one	$(cat r2)	sub/b.bin
	EOF
	fields out >actual && test_cmp expect actual &&
	grep -q "^dangling pointer	.*	names 0\{63\}5, which is not stored$" out &&
	grep -q "^dangling pointer	.*1600000001	holds no top hash$" out &&
	grep -q "^missing object	.*	file://$TRASH/d/a.txt: no such file$" out &&
	grep -q "^size mismatch	.*	file://$TRASH/d/sub/b.bin: 5001 bytes, the entry says 5000$" out &&
	grep -q "^Checked 7 pointers, 2 manifests, 5 objects (5 entries): 6 problems$" err
'

test_expect_success '--objects alone does not see the rewritten file; plain fsck sees no object' '
	test_must_fail quilt fsck --objects --registry reg >out &&
	! grep -q "^hash mismatch" out && grep -q "^size mismatch" out &&
	test_must_fail quilt fsck --registry reg >out &&
	cut -f1 out | sort -u >kinds && printf "%s\n" "corrupt manifest" "dangling pointer" >expect && test_cmp expect kinds
'

test_expect_success 'NAME...: only those packages, their pointers and the manifests these name' '
	test_must_fail quilt fsck --objects --registry reg t/two >out 2>err &&
	cut -f1-3 out | sort >actual &&
	printf "%s\n" "dangling pointer	t/two	1600000000" "dangling pointer	t/two	1600000001" \
		"missing object	t/two	$(cat r2)" "size mismatch	t/two	$(cat r2)" >expect &&
	test_cmp expect actual &&
	grep -q "^Checked 4 pointers, 1 manifest," err &&
	test_must_fail --exit=1 quilt fsck --registry reg t/nothing 2>err && grep -q "^error: no such package .t/nothing. in .file://$TRASH/reg.$" err &&
	test_must_fail --exit=65 quilt fsck --registry reg "not a name" 2>err
'

test_expect_success '--json: the same findings, with severity, and the counts' '
	test_must_fail quilt fsck --full --json --registry reg >out.json 2>err && test ! -s err &&
	"$QUILT_TEST_PYTHON" - out.json <<-\PY
	import json, sys
	r = json.load(open(sys.argv[1]))
	assert r["ok"] is False and r["problems_count"] == 6 and not r["resumed"], r
	kinds = sorted(p["problem"] for p in r["problems"])
	assert kinds == ["corrupt manifest", "dangling pointer", "dangling pointer", "hash mismatch", "missing object",
	                 "size mismatch"], kinds
	assert {p["package"] for p in r["problems"]} == {"t/one", "t/two"}
	assert r["checked"] == {"pointers": 7, "manifests": 2, "objects": 5, "references": 5, "objects_hashed": 3,
	                        "objects_from_s3_checksums": 0}, r["checked"]
	PY
'

test_expect_success 'fsck writes nothing to the registry and leaves no checkpoint behind' '
	snapshot >before &&
	{ quilt fsck --full --registry reg >/dev/null 2>&1; true; } &&
	snapshot >after && test_cmp before after &&
	test -z "$(ls -A "$XDG_DATA_HOME/Quilt/fsck" 2>/dev/null)"
'

test_expect_success 'repaired, it is clean again; a manifest no pointer reaches is still checked' '
	cp r1.manifest reg/.quilt/packages/$(cat r1) &&
	rm reg/.quilt/named_packages/t/two/160000000* &&
	make_file d/a.txt 100 a && make_file d/sub/b.bin 5000 b && make_file d/big.bin $((9 * 1048576)) big &&
	quilt fsck --full --registry reg >out && test_line_count = 0 out &&
	quilt delete t/one --top-hash "$(cat r1)" --yes --registry reg &&
	rm d/sub/c.csv &&
	test_must_fail quilt fsck --objects --registry reg >out &&
	grep -q "^missing object	-	$(cat r1)	sub/c.csv	" out && grep -q "^missing object	t/one	$(cat r2)	sub/c.csv	" out &&
	make_file d/sub/c.csv 300 c && quilt fsck --full --registry reg >out && test_line_count = 0 out
'

test_expect_success 'a manifest stored out of tree order: a warning, exit 0, and still checked against its name' '
	"$QUILT_TEST_PYTHON" - reg/.quilt/packages/$(cat r2) <<-\PY &&
	import sys
	lines = open(sys.argv[1]).read().splitlines(True)
	open(sys.argv[1], "w").write(lines[0] + "".join(reversed(lines[1:])))
	PY
	quilt fsck --registry reg t/one >out 2>err &&
	printf "unsorted manifest\tt/one\t%s\t.quilt/packages/%s\n" "$(cat r2)" "$(cat r2)" >expect &&
	fields out >actual && test_cmp expect actual &&
	grep -q ": 0 problems, 1 warning$" err &&
	quilt fsck --json --registry reg t/one >out.json &&
	grep -q "\"severity\": \"warning\"" out.json && grep -q "\"ok\": true" out.json &&
	sed -i "s/\"size\": 100,/\"size\": 101,/" reg/.quilt/packages/$(cat r2) &&
	test_must_fail quilt fsck --registry reg t/one >out &&
	grep -q "^corrupt manifest	t/one	$(cat r2)	" out
'

test_expect_success QUILT3 'quilt3 reads a manifest stored out of tree order, and its top hash is the name' '
	sed -i "s/\"size\": 101,/\"size\": 100,/" reg/.quilt/packages/$(cat r2) &&
	quilt fsck --registry reg t/one >out && grep -q "^unsorted manifest" out &&
	quilt3_py - "$TRASH/reg" "$(cat r2)" <<-\PY
	import sys, quilt3
	p = quilt3.Package.browse("t/one", registry="file://" + sys.argv[1], top_hash=sys.argv[2])
	assert p.top_hash == sys.argv[2], p.top_hash
	assert sorted(k for k, _ in p.walk()) == ["a.txt", "big.bin", "sub/b.bin", "sub/c.csv", "sub/new.txt"]
	PY
'

test_expect_success 'progress on a terminal, none in a pipe' '
	on_tty quilt fsck --objects --registry reg &&
	grep -q "checking manifests: 2/2 files" tty.out && grep -q "checking objects: 9/9 files" tty.out &&
	QUILT_MINIMIZE_STDOUT=false quilt fsck --objects --registry reg >out 2>err && ! grep -q checking err
'

test_expect_success 'an empty registry, and one that does not exist, are clean' '
	mkdir empty && quilt fsck --registry empty >out 2>err && test_line_count = 0 out &&
	grep -q "^Checked 0 pointers, 0 manifests: 0 problems$" err &&
	quilt fsck --registry nowhere --objects >out 2>err && test_line_count = 0 out
'

test_done
