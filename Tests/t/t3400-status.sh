#!/usr/bin/env bash
test_description='quilt status: install records the revision and file identities outside the directory; status finds M, D and A by stat where it can, hashes what changed (racy ticks included), opens no file when nothing changed'
. "$(dirname "$0")/lib.sh"

command -v strace >/dev/null && strace -f -e trace=openat -o /dev/null true 2>/dev/null && test_set_prereq STRACE
command -v flock >/dev/null && test_set_prereq FLOCK

records="$XDG_DATA_HOME/Quilt/installs"

# data_opens TRACE DIR: files (not directories) below DIR that the traced run opened.
data_opens() { grep -E "open(at)?\(.*\"$2/" "$1" | grep -v O_DIRECTORY | grep -c . || true; }

test_expect_success 'setup: a revision of five files' '
	mkdir -p d/sub/deep && echo a >d/a && echo b >d/b && echo c >d/sub/c && echo e >d/sub/deep/e && make_file d/big 3000000 &&
	quilt build ns/p d --registry reg --message one >top1
'

test_expect_success 'install writes the record outside the directory: verify sees no extra file' '
	quilt install ns/p --registry reg --dest w &&
	test "$(ls "$records" | grep -v "\.lock$" | wc -l)" = 1 &&
	record=$(ls "$records"/* | grep -v "\.lock$") &&
	head -1 "$record" | grep -q "\"top_hash\":\"$(cat top1)\"" &&
	head -1 "$record" | grep -q "\"directory\":\"$TRASH/w\"" &&
	test "$(tail -n +2 "$record" | wc -l)" = 5 &&
	test -z "$(find w -name ".*")" &&
	quilt verify ns/p --registry reg --dir w
'

test_expect_success QUILT3 'quilt3 verify of the installed directory passes' '
	quilt3_py -c "
import quilt3
p = quilt3.Package.browse(\"ns/p\", registry=\"file://$TRASH/reg\")
assert p.verify(\"$TRASH/w\"), \"quilt3 verify failed\"
"
'

test_expect_success 'a clean directory: No changes, empty porcelain, exit 0' '
	quilt status w >out &&
	cat >expect <<-EOF &&
	On ns/p@$(cut -c1-7 top1) in $TRASH/w
	Up to date with latest in file://$TRASH/reg.
	No changes.
	EOF
	test_cmp expect out &&
	quilt status w --porcelain >out && test ! -s out
'

test_expect_success 'M, D and A, sorted by path, exit 0' '
	echo changed >w/b && rm w/sub/c && echo new >w/sub/n && echo z >w/0new &&
	quilt status w --porcelain >out &&
	printf "A 0new\nM b\nD sub/c\nA sub/n\n" >expect && test_cmp expect out &&
	quilt status w --json >out.json &&
	"$QUILT_TEST_PYTHON" -c "
import json
j = json.load(open(\"out.json\"))
assert j[\"modified\"] == [\"b\"] and j[\"deleted\"] == [\"sub/c\"] and j[\"added\"] == [\"0new\", \"sub/n\"], j
assert j[\"up_to_date\"] is True and j[\"top_hash\"] == open(\"top1\").read().strip() and j[\"dir\"] == \"$TRASH/w\"
assert j[\"name\"] == \"ns/p\" and j[\"paths\"] == [], j
"
'

test_expect_success 'a rewrite of the same size with the modification time put back is found (change time)' '
	rm -rf w && quilt install ns/p --registry reg --dest w &&
	cp -p w/a a.saved && echo A >w/a && touch -r a.saved w/a &&
	test "$(stat -c %s.%Y w/a)" = "$(stat -c %s.%Y a.saved)" &&
	quilt status w --porcelain >out && echo "M a" >expect && test_cmp expect out
'

test_expect_success 'a change in the clock tick of the install is found (racy files are hashed)' '
	for i in 1 2 3 4 5 6 7 8; do
		rm -rf r && quilt install ns/p --registry reg --dest r && printf X | dd of=r/a bs=1 count=1 conv=notrunc 2>/dev/null &&
		quilt status r --porcelain --no-fetch >out && echo "M a" >expect && test_cmp expect out || return 1
	done
'

test_expect_success STRACE 'a second status of unchanged files opens none of them, and writes no record' '
	mkdir -p many && for i in $(seq 1 300); do echo $i >many/f$i || return 1; done &&
	quilt build ns/many many --registry reg --message many >/dev/null &&
	quilt install ns/many --registry reg --dest m &&
	quilt status m --porcelain >out && test ! -s out &&
	strace -f -e trace=open,openat -o trace quilt status m --porcelain >out && test ! -s out &&
	test "$(data_opens trace "$TRASH/m")" = 0 &&
	! grep "installs/.*O_CREAT" trace
'

test_expect_success STRACE 'a changed stat of the same size is hashed once; the record learns it, modified or not' '
	touch m/f1 && echo 9 >m/f2 && echo longer >m/f3 &&
	strace -f -e trace=open,openat -o trace quilt status m --porcelain >out &&
	printf "M f2\nM f3\n" >expect && test_cmp expect out && test "$(data_opens trace "$TRASH/m")" = 2 &&
	strace -f -e trace=open,openat -o trace quilt status m --porcelain >out &&
	test_cmp expect out && test "$(data_opens trace "$TRASH/m")" = 0
'

test_expect_success STRACE 'a directory as its record says is clean by the record: the manifest is read only when something differs' '
	rm -rf m && quilt install ns/many --registry reg --dest m && quilt status m --porcelain >out && test ! -s out &&
	strace -f -e trace=open,openat -o trace quilt status m --porcelain >out && test ! -s out &&
	! grep -q "/\.quilt/packages/" trace &&
	touch m/f1 &&
	strace -f -e trace=open,openat -o trace quilt status m --porcelain >out && test ! -s out &&
	grep -q "/\.quilt/packages/" trace && test "$(data_opens trace "$TRASH/m")" = 1 &&
	strace -f -e trace=open,openat -o trace quilt status m --porcelain >out && test ! -s out &&
	! grep -q "/\.quilt/packages/" trace && test "$(data_opens trace "$TRASH/m")" = 0
'

test_expect_success 'a record written before it summed up the selected entries still serves (the manifest decides)' '
	record=$(grep -l "\"directory\":\"$TRASH/m\"" "$records"/*) &&
	sed -i "1s/,\"selected\":{[^}]*}//" "$record" && ! grep -q "\"selected\"" "$record" &&
	quilt status m --porcelain >out && test ! -s out &&
	echo x7 >m/f7 && quilt status m --porcelain >out && echo "M f7" >expect && test_cmp expect out
'

test_expect_success 'status in a subdirectory finds the installed directory above it' '
	(cd w/sub/deep && quilt status --porcelain --no-fetch) >out && echo "M a" >expect && test_cmp expect out &&
	(cd w/sub && quilt status) >out && grep -q "^On ns/p@.* in $TRASH/w$" out
'

test_expect_success 'a directory install did not write: exit 1, a hint' '
	mkdir plain &&
	test_must_fail --exit=1 quilt status plain 2>err &&
	grep -q "^error: .*plain.* is not a directory quilt install wrote" err && grep -q "^hint: " err &&
	test_must_fail --exit=1 quilt status no-such-dir 2>err
'

test_expect_success 'a moved directory has no record where it is now' '
	cp -a w w-copy && test_must_fail --exit=1 quilt status w-copy 2>err && grep -q "not a directory quilt install wrote" err
'

test_expect_success 'latest: moved on, absent, unreadable (a warning, still exit 0), not read with --no-fetch' '
	echo b2 >d/b && quilt build ns/p d --registry reg --message two >top2 && echo b >d/b &&
	quilt status w --no-fetch >out && ! grep -q latest out &&
	quilt status w >out && grep -q "^latest in file://$TRASH/reg is $(cut -c1-7 top2), not the installed revision" out &&
	quilt status w --json >out.json && grep -q "\"up_to_date\": false" out.json &&
	mv reg reg.away && mkdir reg &&
	quilt status w >out 2>err && grep -q "has no latest in" out &&
	rm -r reg && echo notadir >reg &&
	quilt status w >out 2>err && grep -q "^warning: cannot read latest" err && grep -q "^M a$" out &&
	rm reg && mv reg.away reg
'

test_expect_success 'an install of --path: status compares the selection, at its places' '
	quilt install ns/p@$(cat top1) --registry reg --dest ps --path sub &&
	quilt status ps --porcelain --no-fetch >out && test ! -s out &&
	echo x >ps/extra && rm ps/deep/e && echo cc >ps/c &&
	quilt status ps --porcelain --no-fetch >out &&
	printf "M c\nD deep/e\nA extra\n" >expect && test_cmp expect out &&
	quilt status ps --json --no-fetch | grep -q "\"paths\": \[\"sub\"\]"
'

test_expect_success 'install again over the directory: the record is replaced' '
	quilt install ns/p@$(cat top1) --registry reg --dest w &&
	quilt status w --porcelain --no-fetch >out && test ! -s out
'

test_expect_success FLOCK 'a record someone holds is not rewritten by status (and status still reports)' '
	record=$(grep -l "\"directory\":\"$TRASH/w\"" "$records"/*) && cp "$record" before &&
	touch w/a &&
	flock "$record.lock" quilt status w --porcelain --no-fetch >out && test ! -s out &&
	cmp before "$record" &&
	quilt status w --porcelain --no-fetch >out && test ! -s out && ! cmp -s before "$record"
'

test_expect_success 'a damaged record: exit 1 naming it' '
	cp -a w wd && quilt install ns/p@$(cat top1) --registry reg --dest wd &&
	record=$(grep -l "\"directory\":\"$TRASH/wd\"" "$records"/*) &&
	echo "garbage line" >>"$record" &&
	test_must_fail --exit=1 quilt status wd 2>err && grep -q "^error: install record .* is damaged (line 7)" err
'

test_expect_success 'usage: --porcelain with --json is refused (exit 64)' '
	test_must_fail --exit=64 quilt status w --porcelain --json 2>err && grep -q "cannot be used together" err
'

test_done
