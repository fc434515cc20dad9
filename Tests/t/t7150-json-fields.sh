#!/usr/bin/env bash
test_description='log --json marks latest and carries user_meta; show --json has the manifest'"'"'s physical_keys'
. "$(dirname "$0")/lib.sh"

test_expect_success 'setup: two revisions, then latest moved back to the first' '
	mkdir d && echo 1 >d/a &&
	h1=$(quilt build ns/pkg d --message one --meta "{\"v\": 1}") && sleep 1 &&
	echo 2 >d/b && h2=$(quilt build ns/pkg d --message two) &&
	sleep 1 && quilt-update-ref ns/pkg $h1
'

test_expect_success 'log --json: one latest row, user_meta per row, the first keys unchanged' '
	quilt log ns/pkg --json >out &&
	"$QUILT_TEST_PYTHON" - "$h1" "$h2" <<-\PY
	import json, sys
	h1, h2 = sys.argv[1:]
	rows = json.load(open("out"))
	assert list(rows[0])[:3] == ["timestamp", "top_hash", "message"], rows
	by_hash = {}
	for r in rows:
	    by_hash.setdefault(r["top_hash"], []).append(r)
	assert [r["latest"] for r in rows].count(True) == len(by_hash[h1]), rows
	assert all(r["latest"] for r in by_hash[h1]) and not any(r["latest"] for r in by_hash[h2]), rows
	assert all(r["user_meta"] == {"v": 1} for r in by_hash[h1]), rows
	assert all(r["user_meta"] is None for r in by_hash[h2]), rows
	PY
'

test_expect_success 'show --json: physical_keys as in the manifest, physical_key kept' '
	quilt show ns/pkg@$h2 --json >out &&
	quilt-cat-manifest ns/pkg@$h2 >manifest &&
	"$QUILT_TEST_PYTHON" - <<-\PY
	import json
	shown = json.load(open("out"))["entries"]
	stored = [json.loads(l) for l in open("manifest")][1:]
	assert [e["physical_keys"] for e in shown] == [e["physical_keys"] for e in stored], (shown, stored)
	assert all(e["physical_key"] == e["physical_keys"][0] for e in shown), shown
	PY
'

test_done
