#!/usr/bin/env bash
test_description='quilt gc on a local registry: manifests no pointer reaches and objects an unbundle put under
.quilt/objects/ that no manifest references, older than --older-than (file times), listed with sizes and a total;
deleted only with --yes (asked on a terminal), never with --dry-run; installed files under ns/name/ and everything
else untouched; a pointer that holds no top hash stops it; quilt3 reads every package afterwards'
. "$(dirname "$0")/lib.sh"

# snapshot: every file of the registry.
snapshot() { (cd reg && find . -type f | sort); }
# old FILE...: modified ten days ago.
old() { touch -d "10 days ago" "$@"; }

test_expect_success 'setup: a built package, two unbundled ones (one deleted), an unreachable revision, installed files' '
	make_file d/a.txt 100 a && make_file d/sub/b.bin 5000 b &&
	quilt build t/built d --registry reg --message one >r1 &&
	sleep 1 && make_file d/sub/c.csv 300 c &&
	quilt build t/built d --registry reg --message two >r2 &&
	mkdir u1 && make_file u1/x.txt 40 x && make_file u1/shared.txt 50 shared &&
	mkdir u2 && make_file u2/y.txt 60 y && make_file u2/shared.txt 50 shared &&
	quilt build t/u1 u1 --registry src >/dev/null && quilt build t/u2 u2 --registry src >/dev/null &&
	quilt bundle create t/u1 u1.qb --registry src && quilt bundle create t/u2 u2.qb --registry src &&
	quilt bundle unbundle u1.qb --registry reg >/dev/null && quilt bundle unbundle u2.qb --registry reg >/dev/null &&
	quilt rev-parse t/u1 --registry reg >top.u1 && quilt rev-parse t/u2 --registry reg >top.u2 &&
	quilt delete t/u1 --yes --registry reg &&
	quilt delete t/built --top-hash "$(cat r1)" --yes --registry reg &&
	mkdir -p reg/t/built && cp d/a.txt reg/t/built/a.txt && echo stray >reg/.quilt/stray &&
	find reg/.quilt/objects -type f >objects && test_line_count = 3 objects &&
	quilt fsck --full --registry reg >out && test_line_count = 0 out
'

test_expect_success 'with the default age (7 days) nothing just written is listed' '
	quilt gc --dry-run --registry reg >out 2>err &&
	echo "total	0	-	0 manifest versions, 0 object versions, 0 incomplete uploads" >expect && test_cmp expect out &&
	test ! -s err
'

test_expect_success 'ten days old: the unreachable manifests and the objects only t/u1 referenced are listed' '
	old reg/.quilt/packages/* reg/.quilt/objects/*/* &&
	quilt gc --dry-run --registry reg >out 2>err &&
	x=$(quilt-cat-manifest "$(cat top.u1)" --registry reg | grep "\"x.txt\"" | sed "s|.*file://\([^\"]*\)\".*|\1|") &&
	cut -f1,2,4 out >actual &&
	{
		printf "manifest\t%s\tfile://%s\n" "$(wc -c <reg/.quilt/packages/$(cat r1))" "$TRASH/reg/.quilt/packages/$(cat r1)"
		printf "manifest\t%s\tfile://%s\n" "$(wc -c <reg/.quilt/packages/$(cat top.u1))" "$TRASH/reg/.quilt/packages/$(cat top.u1)"
		printf "object\t40\tfile://%s\n" "$x"
	} | sort >expect.items && head -n 3 actual | sort >items && test_cmp expect.items items &&
	total=$(( $(wc -c <reg/.quilt/packages/$(cat r1)) + $(wc -c <reg/.quilt/packages/$(cat top.u1)) + 40 )) &&
	tail -n 1 out >last && printf "total\t%s\t-\t2 manifest versions, 1 object version, 0 incomplete uploads\n" $total >expect &&
	test_cmp expect last &&
	grep -q "^manifest	[0-9]*	10.0	" out &&
	grep -q "^Nothing deleted (--dry-run)$" err
'

test_expect_success '--older-than: fractions of a day, and 30 days lists nothing' '
	quilt gc --dry-run --older-than 30 --registry reg >out && test_line_count = 1 out &&
	quilt gc --dry-run --older-than 9.5 --json --registry reg >out.json &&
	"$QUILT_TEST_PYTHON" - out.json "$(cat r1)" "$(cat top.u1)" <<-\PY
	import json, sys
	r = json.load(open(sys.argv[1]))
	assert r["older_than_days"] == 9.5 and r["prefixes"] == [".quilt/objects/"] and r["deleted"] is None, r
	assert sorted(m["key"] for m in r["manifests"]) == sorted(".quilt/packages/" + h for h in sys.argv[2:4])
	assert [o["size"] for o in r["objects"]] == [40] and r["objects"][0]["version_id"] is None
	assert r["total_bytes"] == sum(m["size"] for m in r["manifests"]) + 40 and r["uploads"] == []
	PY
'

test_expect_success 'on a terminal --yes asks first; no deletes nothing' '
	snapshot >before &&
	echo n >tty.in && test_must_fail on_tty quilt gc --yes --registry reg &&
	grep -q "Delete 2 manifest versions, 1 object version (.*) and abort 0 uploads in file://.*? \[y/N\]" tty.out &&
	grep -q "not confirmed; nothing deleted" tty.out &&
	snapshot >after && test_cmp before after
'

test_expect_success 'on a terminal, yes deletes' '
	quilt build t/yes d --registry reg >/dev/null && quilt delete t/yes --yes --registry reg &&
	h=$(ls -t reg/.quilt/packages | head -n 1) && old reg/.quilt/packages/$h &&
	echo y >tty.in && on_tty quilt gc --yes --registry reg &&
	grep -q "Deleted 3 manifest versions and 1 object version (.*), aborted 0 uploads" tty.out && test ! -e reg/.quilt/packages/$h
'

test_expect_success 'gc --yes deletes exactly what was listed, and nothing else' '
	quilt build t/again d --registry reg --message again >/dev/null && quilt delete t/again --yes --registry reg &&
	old reg/.quilt/packages/* &&
	quilt gc --dry-run --registry reg | head -n -1 | cut -f4 | sed "s|^file://$TRASH/reg/|./|" | sort >listed &&
	snapshot >before &&
	quilt gc --yes --registry reg >out 2>err &&
	snapshot >after &&
	comm -23 before after >gone && test_cmp listed gone &&
	comm -13 before after >new && test_line_count = 0 new &&
	test -f reg/t/built/a.txt && test -f reg/.quilt/stray &&
	grep -q "^Deleted 1 manifest version and 0 object versions (.*), aborted 0 uploads$" err &&
	quilt gc --dry-run --older-than 0 --registry reg >out && test_line_count = 1 out
'

test_expect_success 'afterwards fsck --full is clean; the kept packages install and verify' '
	quilt fsck --full --registry reg >out && test_line_count = 0 out &&
	quilt install t/u2 --registry reg --dest i2 >/dev/null && quilt verify t/u2 --registry reg --dir i2 &&
	quilt install t/built --registry reg --dest ib >/dev/null && quilt verify t/built --registry reg --dir ib
'

test_expect_success QUILT3 'quilt3 installs and verifies every package of the registry afterwards' '
	quilt3_py - "file://$TRASH/reg" <<-\PY
	import sys, quilt3
	reg = sys.argv[1]
	names = sorted(quilt3.list_packages(reg))
	assert names == ["t/built", "t/u2"], names
	for name in names:
	    quilt3.Package.install(name, registry=reg, dest="q3/" + name)
	    assert quilt3.Package.browse(name, registry=reg).verify("q3/" + name), name
	PY
'

test_expect_success 'a pointer that holds no top hash stops gc; nothing is deleted' '
	quilt build t/later d --registry reg >/dev/null && quilt delete t/later --yes --registry reg && old reg/.quilt/packages/* &&
	echo junk >reg/.quilt/named_packages/t/u2/1600000000 &&
	snapshot >before &&
	test_must_fail --exit=1 quilt gc --yes --older-than 0 --registry reg 2>err &&
	grep -q "^error: cannot collect garbage: a pointer holds no top hash, .\.quilt/named_packages/t/u2/1600000000.; what it names might be deleted$" err &&
	snapshot >after && test_cmp before after
'

test_done
