#!/usr/bin/env bash
test_description='remote-tracking records: consecutive pushes of a name do not conflict (quiltdata/quilt #5188), a
push or a quilt3 push from another machine (another HOME) in between still does (exit 2); install records what it
read; --force and --dedupe record what they leave there; the record is a file per registry and name in the data
directory; rollback in S3 with the same check; quilt3 reads every result'
. "$(dirname "$0")/lib.sh"

BUCKET=tracking-$$
REG=s3://$BUCKET
# The record of ns/p in $REG, in this HOME.
record() { echo "$XDG_DATA_HOME/Quilt/remotes/s3%3A%2F%2F$BUCKET/$1"; }

# other CMD...: CMD on another machine: its own HOME and data directory.
mkdir -p other
other() { HOME="$TRASH/other" XDG_DATA_HOME="$TRASH/other/.local/share" XDG_CACHE_HOME="$TRASH/other/.cache" \
	XDG_CONFIG_HOME="$TRASH/other/.config" "$@"; }

# q3_latest NAME: the latest top hash quilt3 browses in $REG.
q3_latest() {
	quilt3_py -c 'import sys, quilt3; print(quilt3.Package.browse(sys.argv[1], registry=sys.argv[2]).top_hash)' "$1" "$REG"
}

test_expect_success S3 'setup: bucket and data' '
	s3_make_bucket "$BUCKET" --versioned &&
	mkdir -p d && echo one >d/a.txt && echo two >d/b.txt
'

test_expect_success S3 'two consecutive pushes of a changing directory: both succeed (quilt3 #5188 conflicts)' '
	quilt push ns/p d --registry "$REG" --message v1 >h1 &&
	test "$(cat "$(record ns/p)")" = "$(cat h1)" &&
	echo changed >d/a.txt && sleep 1 &&
	QUILT_TRACE=1 quilt push ns/p d --registry "$REG" --message v2 >h2 2>trace &&
	grep -q "push expects $(cat h1) (last published or read here)" trace &&
	test "$(cat "$(record ns/p)")" = "$(cat h2)" &&
	test "$(q3_latest ns/p)" = "$(cat h2)" &&
	test "$(quilt log ns/p --registry "$REG" --json | "$QUILT_TEST_PYTHON" -c "import json,sys; print(len(json.load(sys.stdin)))")" = 2
'

test_expect_success S3 'the record: one line, the top hash, in the data directory; quilt3 never reads it' '
	test_line_count = 1 "$(record ns/p)" && grep -qx "[0-9a-f]\{64\}" "$(record ns/p)" &&
	ls "$XDG_DATA_HOME/Quilt/remotes" >dirs && echo "s3%3A%2F%2F$BUCKET" >expect && test_cmp expect dirs
'

test_expect_success S3 'another machine pushes without having read the package: exit 2' '
	mkdir -p d2 && echo theirs >d2/t.txt &&
	other test_must_fail --exit=2 quilt push ns/p d2 --registry "$REG" 2>err &&
	grep -q "^error: the latest of .ns/p. in $REG is " err && grep -q "^hint: .*quilt install ns/p --registry $REG" err
'

test_expect_success S3 'it installs (recording what it read), then pushes; this machine then conflicts (exit 2)' '
	other quilt install ns/p --registry "$REG" --dest "$TRASH/other/work" &&
	test "$(cat "$TRASH/other/.local/share/Quilt/remotes/s3%3A%2F%2F$BUCKET/ns/p")" = "$(cat h2)" &&
	sleep 1 && other quilt push ns/p d2 --registry "$REG" --message theirs >h3 &&
	echo mine >d/a.txt &&
	test_must_fail --exit=2 quilt push ns/p d --registry "$REG" --message mine 2>err &&
	grep -q "not $(head -c 12 h2), the revision this machine last saw" err &&
	test "$(q3_latest ns/p)" = "$(cat h3)" && test "$(cat "$(record ns/p)")" = "$(cat h2)"
'

test_expect_success S3 'after reading it (install), the push goes through' '
	quilt install ns/p --registry "$REG" --dest work >/dev/null &&
	test "$(cat "$(record ns/p)")" = "$(cat h3)" &&
	sleep 1 && quilt push ns/p d --registry "$REG" --message mine >h4 &&
	test "$(q3_latest ns/p)" = "$(cat h4)"
'

test_expect_success S3,QUILT3 'a quilt3 push from another machine in between: exit 2 again' '
	HOME="$TRASH/other" XDG_DATA_HOME="$TRASH/other/.local/share" quilt3_py -c "
import sys, quilt3
p = quilt3.Package.browse(\"ns/p\", registry=sys.argv[1])
p.set(\"by-quilt3.txt\", \"d2/t.txt\")
top = p.push(\"ns/p\", registry=sys.argv[1], message=\"quilt3\", force=True).top_hash
open(\"h5\", \"w\").write(top + \"\\n\")" "$REG" >/dev/null &&
	echo again >d/a.txt &&
	test_must_fail --exit=2 quilt push ns/p d --registry "$REG" &&
	test "$(q3_latest ns/p)" = "$(cat h5)"
'

test_expect_success S3 '--force overwrites and records the revision; the next push expects it' '
	sleep 1 && quilt push ns/p d --registry "$REG" --force --message forced >h6 &&
	test "$(cat "$(record ns/p)")" = "$(cat h6)" &&
	echo after >d/b.txt && sleep 1 && quilt push ns/p d --registry "$REG" --message after-force >h7 &&
	test "$(q3_latest ns/p)" = "$(cat h7)"
'

test_expect_success S3 '--dedupe of what another machine published: no conflict (nothing is overwritten), recorded' '
	cp -R d same && other quilt install ns/p --registry "$REG" --dest "$TRASH/other/w2" &&
	sleep 1 && echo newer >d2/t.txt && other quilt push ns/p d2 --registry "$REG" --message shared >h8 &&
	(cd "$TRASH" && other quilt push ns/p d2 --registry "$REG" --message shared --dedupe >h8b) &&
	test_cmp h8 h8b &&
	quilt push ns/p d2 --registry "$REG" --message shared --dedupe --json >out &&
	"$QUILT_TEST_PYTHON" -c "import json; d = json.load(open(\"out\")); assert d[\"timestamp\"] is None and d[\"top_hash\"] == open(\"h8\").read().strip(), d" &&
	test "$(cat "$(record ns/p)")" = "$(cat h8)"
'

test_expect_success S3 'a push of the local latest (no DIR) expects the recorded revision too' '
	quilt build ns/p d --message local >/dev/null && sleep 1 &&
	quilt push ns/p --registry "$REG" >h9 &&
	test "$(q3_latest ns/p)" = "$(cat h9)" && test "$(cat "$(record ns/p)")" = "$(cat h9)"
'

test_expect_success S3 'rollback in S3: a new pointer and latest for an earlier revision, quilt3 sees it' '
	sleep 1 && quilt rollback ns/p "$(head -c 10 h1)" --registry "$REG" >out &&
	test_cmp h1 out && test "$(q3_latest ns/p)" = "$(cat h1)" &&
	quilt log ns/p --registry "$REG" --json >log &&
	"$QUILT_TEST_PYTHON" -c "import json; l = json.load(open(\"log\")); assert l[0][\"top_hash\"] == open(\"h1\").read().strip() and l[0][\"latest\"], l[0]" &&
	test "$(cat "$(record ns/p)")" = "$(cat h1)"
'

test_expect_success S3 'rollback from a machine that has not seen the latest: exit 2, nothing moved; --force does it' '
	test_must_fail --exit=2 other quilt rollback ns/p "$(cat h2)" --registry "$REG" 2>err &&
	grep -q "^hint: " err && test "$(q3_latest ns/p)" = "$(cat h1)" &&
	sleep 1 && other quilt rollback ns/p "$(cat h2)" --registry "$REG" --force >out &&
	test_cmp h2 out && test "$(q3_latest ns/p)" = "$(cat h2)"
'

test_expect_success S3,QUILT3 'quilt3 installs and verifies the rolled-back revision' '
	quilt3_py -c "
import sys, quilt3
quilt3.Package.install(\"ns/p\", registry=sys.argv[1], dest=\"q3inst\")
p = quilt3.Package.browse(\"ns/p\", registry=sys.argv[1])
assert p.top_hash == open(\"h2\").read().strip()
assert p.verify(\"q3inst\")" "$REG"
'

test_done
