#!/usr/bin/env bash
test_description='quilt rollback NAME HASH (quilt3 Package.rollback) in a local registry: a new timestamp pointer and
latest for an earlier revision, by a hash or a unique prefix; the history keeps everything; --json; errors (no such
package, no such manifest, a short or ambiguous prefix); a rollback to the latest writes nothing; quilt3 reads it'
. "$(dirname "$0")/lib.sh"

test_expect_success 'setup: three revisions' '
	mkdir d && echo 1 >d/a.txt && quilt build ns/p d --message one >h1 && sleep 1 &&
	echo 2 >d/a.txt && quilt build ns/p d --message two >h2 && sleep 1 &&
	echo 3 >d/a.txt && quilt build ns/p d --message three >h3
'

test_expect_success 'rollback to the first by a prefix: prints its hash, latest moves, a new pointer is written' '
	sleep 1 && quilt rollback ns/p "$(head -c 8 h1)" >out 2>err &&
	test_cmp h1 out && test ! -s err &&
	test "$(quilt rev-parse ns/p)" = "$(cat h1)" &&
	quilt log ns/p --json >log &&
	"$QUILT_TEST_PYTHON" -c "import json; l = json.load(open(\"log\")); assert len(l) == 4, l; assert l[0][\"top_hash\"] == open(\"h1\").read().strip() and l[0][\"latest\"], l[0]; assert [r[\"top_hash\"] for r in l[1:]] == [open(f).read().strip() for f in (\"h3\", \"h2\", \"h1\")], l"
'

test_expect_success '--json: name, top_hash, registry, timestamp, previous' '
	sleep 1 && quilt rollback ns/p "$(cat h2)" --json >out &&
	"$QUILT_TEST_PYTHON" -c "import json; d = json.load(open(\"out\")); assert set(d) == {\"name\", \"top_hash\", \"registry\", \"timestamp\", \"previous\"}, d; assert d[\"top_hash\"] == open(\"h2\").read().strip() and d[\"previous\"] == open(\"h1\").read().strip() and isinstance(d[\"timestamp\"], int), d"
'

test_expect_success 'rollback to the latest itself: nothing written, timestamp null' '
	quilt-show-ref ns/p >before &&
	quilt rollback ns/p "$(cat h2)" --json >out && grep -q "\"timestamp\": null" out &&
	quilt-show-ref ns/p >after && test_cmp before after
'

test_expect_success 'errors: no such package (1), no such manifest (1), a bad hash (64), a bad name (65)' '
	test_must_fail --exit=1 quilt rollback ns/none "$(cat h1)" 2>err && grep -q "no such package .ns/none. in" err &&
	test_must_fail --exit=1 quilt rollback ns/p 0123456789ab 2>err &&
	test_must_fail --exit=64 quilt rollback ns/p abc 2>err && grep -q "at least 6 hex digits" err &&
	test_must_fail --exit=64 quilt rollback ns/p 2>err &&
	test_must_fail --exit=65 quilt rollback Bad "$(cat h1)"
'

test_expect_success 'another registry with --registry; help and the man page' '
	quilt build ns/r d --registry reg --message r1 >r1 && sleep 1 && echo 4 >d/a.txt &&
	quilt build ns/r d --registry reg --message r2 >/dev/null &&
	sleep 1 && quilt rollback ns/r "$(cat r1)" --registry reg >/dev/null &&
	test "$(quilt rev-parse ns/r --registry reg)" = "$(cat r1)" &&
	quilt rollback --help >help && grep -q "OVERVIEW: Make an earlier revision" help &&
	quilt help rollback >/dev/null
'

test_expect_success QUILT3 'quilt3 reads the rolled-back latest' '
	quilt3_py -c "import quilt3; p = quilt3.Package.browse(\"ns/p\"); assert p.top_hash == open(\"h2\").read().strip()"
'

test_done
