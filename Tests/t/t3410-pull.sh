#!/usr/bin/env bash
test_description='quilt pull: only changed entries written, dropped ones removed, the rest untouched; local changes stop it (nothing changed) unless --force; a rerun after an interruption goes on; the new revision recorded'
. "$(dirname "$0")/lib.sh"

command -v flock >/dev/null && test_set_prereq FLOCK
command -v strace >/dev/null && strace -f -e trace=openat -o /dev/null true 2>/dev/null && test_set_prereq STRACE

# data_opens TRACE DIR: files (not directories) below DIR that the traced run opened.
data_opens() { grep -E "open(at)?\(.*\"$2/" "$1" | grep -v O_DIRECTORY | grep -c . || true; }

# ino FILE: the file's inode (a file written again by the pull gets a new one).
ino() { stat -c %i "$1"; }

# snap N [REGISTRY]: builds revision N of ns/p from a copy of d (local builds point at their files, which must not
# change afterwards), its top hash in topN.
snap() { rm -rf "s$1" && cp -R d "s$1" && quilt build ns/p "s$1" --registry "${2:-reg}" --message "r$1" >"top$1"; }

test_expect_success 'setup: revision 1 installed' '
	mkdir -p d/sub d/gone && echo a >d/a && echo b >d/b && echo c >d/sub/c && echo g >d/gone/g && echo k >d/keep &&
	snap 1 &&
	quilt install ns/p --registry reg --dest w && echo untracked >w/mine
'

test_expect_success 'nothing new: already up to date, nothing read or written' '
	quilt pull w --json >out.json && grep -q "\"up_to_date\": true" out.json &&
	grep -q "\"written\": 0, \"removed\": 0, \"kept\": 0" out.json
'

test_expect_success 'revision 2 (one modified, one dropped with its directory, one added): 2 written, 1 removed' '
	echo a2 >d/a && rm -r d/gone && echo new >d/sub/new &&
	snap 2 &&
	b=$(ino w/b) && k=$(ino w/keep) && c=$(ino w/sub/c) &&
	quilt pull w --json >out.json &&
	grep -q "\"top_hash\": \"$(cat top2)\"" out.json && grep -q "\"previous_top_hash\": \"$(cat top1)\"" out.json &&
	grep -q "\"written\": 2, \"removed\": 1, \"kept\": 3" out.json &&
	test "$(ino w/b)" = "$b" && test "$(ino w/keep)" = "$k" && test "$(ino w/sub/c)" = "$c" &&
	cmp d/a w/a && cmp d/sub/new w/sub/new && test ! -e w/gone &&
	test "$(cat w/mine)" = untracked &&
	quilt verify ns/p --registry reg --dir w --extra-files-ok &&
	quilt status w --porcelain >out && echo "A mine" >expect && test_cmp expect out &&
	test "$(quilt-rev-parse ns/p)" = "$(cat top2)"
'

test_expect_success 'a modified file the new revision changes: exit 1, nothing changed' '
	rm w/mine &&
	echo mine >w/b && echo b3 >d/b && echo a3 >d/a &&
	snap 3 &&
	a=$(ino w/a) && record=$(ls "$XDG_DATA_HOME"/Quilt/installs/* | grep -v lock) && cp "$record" record.before &&
	test_must_fail --exit=1 quilt pull w 2>err &&
	grep -q "^error: local changes in .*w. would be overwritten or removed: .b. (1 file)" err &&
	grep -q "^hint: see .quilt status." err &&
	test "$(cat w/b)" = mine && test "$(ino w/a)" = "$a" && cmp record.before "$record" &&
	test "$(quilt-rev-parse ns/p)" = "$(cat top2)"
'

test_expect_success 'a deleted file the new revision has, and a file in the way of a new entry: exit 1 too' '
	echo b >w/b && rm w/sub/c && echo "in the way" >w/added &&
	echo added >d/added && snap 4 &&
	test_must_fail --exit=1 quilt pull w 2>err &&
	grep -q "would be overwritten or removed: .added., .sub/c. (2 files)" err &&
	test "$(cat w/added)" = "in the way" && test ! -e w/sub/c
'

test_expect_success '--force overwrites and restores them' '
	quilt pull w --force --json >out.json && grep -q "\"top_hash\": \"$(cat top4)\"" out.json &&
	cmp d/added w/added && cmp d/sub/c w/sub/c && cmp d/b w/b && cmp d/a w/a &&
	quilt verify ns/p --registry reg --dir w
'

test_expect_success 'a local change that already is the new bytes is none (a rerun after an interruption)' '
	echo a5 >d/a && rm d/keep && echo z >d/z && snap 5 &&
	cp d/a w/a && rm w/keep && cp d/z w/z &&
	quilt pull w --json >out.json && grep -q "\"written\": 0, \"removed\": 0" out.json &&
	quilt verify ns/p --registry reg --dir w && quilt status w --porcelain >out && test ! -s out
'

test_expect_success 'a file becomes a directory and back' '
	rm d/z && mkdir d/z && echo inner >d/z/inner && snap 6 &&
	quilt pull w && cmp d/z/inner w/z/inner && quilt verify ns/p --registry reg --dir w &&
	rm -r d/z && echo z >d/z && snap 7 &&
	quilt pull w && cmp d/z w/z && test -f w/z && quilt verify ns/p --registry reg --dir w
'

test_expect_success 'pull to a named revision: an older one by hash prefix, a top hash, then latest' '
	quilt pull w ns/p@$(cut -c1-10 top2) && quilt verify ns/p@$(cat top2) --registry reg --dir w &&
	quilt pull w "$(cat top5)" && quilt verify ns/p@$(cat top5) --registry reg --dir w &&
	quilt pull w && quilt verify ns/p@$(cat top7) --registry reg --dir w &&
	quilt status w --json | grep -q "\"up_to_date\": true"
'

test_expect_success 'a revision of another package is refused (exit 64); no record is exit 1' '
	quilt build ns/other d --registry reg --message o >/dev/null &&
	test_must_fail --exit=64 quilt pull w ns/other 2>err && grep -q "is not the installed package" err &&
	mkdir plain && test_must_fail --exit=1 quilt pull plain 2>err && grep -q "not a directory quilt install wrote" err
'

test_expect_success 'pull from inside the directory, and --registry to read latest elsewhere' '
	cp -R reg reg2 && echo b8 >d/b && snap 8 reg2 &&
	(cd w/sub && quilt pull) && quilt verify ns/p@$(cat top7) --registry reg --dir w &&
	(cd w/sub && quilt pull --registry ../../reg2) && cmp d/b w/b &&
	quilt status w --json | grep -q "\"registry\": \"file://$TRASH/reg2\""
'

test_expect_success 'an install of --path: the pull keeps the selection and its places' '
	quilt install ns/p@$(cat top1) --registry reg --dest ps --path sub &&
	test -f ps/c && test ! -e ps/a &&
	quilt pull ps ns/p@$(cat top2) --registry reg --json >out.json && grep -q "\"written\": 1, \"removed\": 0" out.json &&
	cmp d/sub/new ps/new && test ! -e ps/a && test ! -e ps/sub &&
	quilt status ps --porcelain --no-fetch >out && test ! -s out
'

test_expect_success FLOCK 'a directory another pull holds: exit 1 at once' '
	record=$(grep -l "\"directory\":\"$TRASH/w\"" "$XDG_DATA_HOME"/Quilt/installs/*) &&
	echo b9 >d/b && snap 9 reg2 &&
	flock "$record.lock" sh -c "! quilt pull w 2>err" && grep -q "another quilt install or pull is working on" err &&
	quilt pull w && cmp d/b w/b
'

test_expect_success 'a link where a changed entry goes is a local change, never taken for the new bytes' '
	echo b10 >d/b && snap 10 reg2 &&
	cp d/b elsewhere && rm w/b && ln -s "$TRASH/elsewhere" w/b &&
	test_must_fail --exit=1 quilt pull w 2>err && grep -q "would be overwritten or removed: .b." err &&
	test -h w/b &&
	quilt pull w --force && test ! -h w/b && cmp d/b w/b && quilt verify ns/p --registry reg2 --dir w
'

test_expect_success 'the pulled revision is the remote-tracking record of the registry read (none for the local one)' '
	echo b11 >d/b && snap 11 reg2 &&
	QUILT_TRACE=1 quilt pull w 2>trace &&
	grep -q "remote-tracking: ns/p in file://$TRASH/reg2 is $(cat top11)" trace &&
	grep -lx "$(cat top11)" $(find "$XDG_DATA_HOME/Quilt/remotes" -path "*reg2/ns/p") &&
	QUILT_TRACE=1 quilt pull w 2>trace && grep -q "remote-tracking: ns/p in file://$TRASH/reg2 is $(cat top11)" trace &&
	echo b12 >d/b && quilt build ns/p d --message local >toplocal &&
	QUILT_TRACE=1 quilt pull w --registry "$(local_registry)" 2>trace && cmp d/b w/b &&
	quilt status w --json --no-fetch | grep -q "\"top_hash\": \"$(cat toplocal)\"" &&
	! grep -q "remote-tracking:" trace && test -z "$(find "$XDG_DATA_HOME/Quilt/remotes" -path "*packages*")"
'

test_expect_success 'a Quilt+ URI names the revision and the registry; path= and another --registry are refused (64)' '
	uri="quilt+file://$TRASH/reg2#package=ns/p@$(cut -c1-10 top11)" &&
	quilt pull w "$uri" --json >out.json && grep -q "\"top_hash\": \"$(cat top11)\"" out.json && cmp s11/b w/b &&
	quilt status w --json --no-fetch | grep -q "\"registry\": \"file://$TRASH/reg2\"" &&
	test_must_fail --exit=64 quilt pull w "$uri&path=sub" 2>err && grep -q "path in the URI has no meaning here" err &&
	test_must_fail --exit=64 quilt pull w "$uri" --registry reg 2>err && grep -q "the URI names the registry" err &&
	quilt pull w "$uri" --registry reg2 --json | grep -q "\"up_to_date\": true"
'

test_expect_success STRACE 'the files a pull wrote are in the record: a status right after it opens none' '
	echo b13 >d/b && echo a13 >d/a && echo n13 >d/sub/n13 && snap 13 reg2 &&
	quilt pull w --json >out.json && grep -q "\"written\": 3, \"removed\": 0" out.json &&
	strace -f -e trace=open,openat -o trace quilt status w --porcelain --no-fetch >out && test ! -s out &&
	test "$(data_opens trace "$TRASH/w")" = 0 &&
	quilt verify ns/p --registry reg2 --dir w
'

test_done
