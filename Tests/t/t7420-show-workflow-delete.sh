#!/usr/bin/env bash
test_description='quilt show shows the workflow stamp (a "workflow:" line; "workflow" in --json, null without one,
the older keys unchanged and in order); quilt delete with standard input not a terminal deletes only with --yes
(exit 64 otherwise, so a pasted delete never deletes silently)'
. "$(dirname "$0")/lib.sh"

test_expect_success 'setup: a registry with workflows, a revision stamped by one, another by none' '
	mkdir -p d wfreg/.quilt/workflows && echo 1 >d/a.txt &&
	printf "version: \"1\"\nis_workflow_required: false\nworkflows:\n  main: {name: Main}\ndefault_workflow: main\n" \
		>wfreg/.quilt/workflows/config.yml &&
	quilt build ns/wf d --registry wfreg --message m >stamped && sleep 1 &&
	quilt build ns/wf d --registry wfreg --workflow "" --message none >unstamped &&
	quilt build ns/plain d --message plain >plain
'

test_expect_success 'show: the workflow line names the workflow and its config' '
	quilt show "ns/wf@$(cat stamped)" --registry wfreg >out &&
	grep -q "^workflow:  main (config file://.*/wfreg/.quilt/workflows/config.yml)$" out &&
	quilt show "ns/wf@$(cat unstamped)" --registry wfreg >out &&
	grep -q "^workflow:  None (config file://" out &&
	quilt show ns/plain >out && ! grep -q "^workflow:" out
'

test_expect_success 'show --json: "workflow" is the stamp as stored, null without one; older keys first, unchanged' '
	quilt show "ns/wf@$(cat stamped)" --registry wfreg --json >stamped.json &&
	quilt show ns/plain --json >plain.json &&
	quilt-cat-manifest --registry wfreg "$(cat stamped)" | head -n 1 >header &&
	"$QUILT_TEST_PYTHON" - <<-\PY
	import json
	s, p = json.load(open("stamped.json")), json.load(open("plain.json"))
	header = json.loads(open("header").read())
	assert s["workflow"] == header["workflow"] and s["workflow"]["id"] == "main", s["workflow"]
	assert p["workflow"] is None, p
	assert list(s)[:4] == ["name", "top_hash", "message", "user_meta"] and list(s)[-1] == "entries", list(s)
	PY
'

test_expect_success 'delete without a terminal and without --yes: exit 64, a hint, nothing deleted' '
	test_must_fail --exit=64 quilt delete ns/plain </dev/null 2>err &&
	grep -q "^error: standard input is not a terminal" err && grep -q "^hint: .*--yes" err &&
	printf "y\n" | test_must_fail --exit=64 quilt delete ns/plain --top-hash "$(cat plain)" &&
	test "$(quilt list)" = ns/plain
'

test_expect_success 'delete --yes without a terminal deletes' '
	quilt delete ns/plain --yes --json </dev/null >out && grep -q "\"latest\"" out &&
	test -z "$(quilt list)"
'

test_done
