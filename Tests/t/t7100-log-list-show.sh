#!/usr/bin/env bash
test_description='quilt log, list, show, diff, verify, delete, config'
. "$(dirname "$0")/lib.sh"

test_expect_success 'setup: three revisions' '
	mkdir d && echo 1 >d/a && echo 2 >d/b &&
	h1=$(quilt build ns/pkg d --message "one") && sleep 1 &&
	echo 3 >d/c && h2=$(quilt build ns/pkg d --message "two") && sleep 1 &&
	echo changed >d/a && rm d/b && h3=$(quilt build ns/pkg d --message "three") &&
	quilt build other/pkg d >/dev/null
'

test_expect_success 'log: newest first, latest marked' '
	quilt log ns/pkg >out && test_line_count = 3 out &&
	head -1 out | grep -q "$h3 (latest)  three" && tail -1 out | grep -q "$h1  one"
'

test_expect_success 'log --json' '
	quilt log ns/pkg --json >out &&
	"$QUILT_TEST_PYTHON" -c "
import json; rows = json.load(open(\"out\"))
assert [r[\"message\"] for r in rows] == [\"three\", \"two\", \"one\"], rows
assert all(set(r) >= {\"timestamp\", \"top_hash\", \"message\"} for r in rows)"
'

test_expect_success 'log skips a corrupt pointer with a warning and shows the rest' '
	p="$(local_registry)/.quilt/named_packages/ns/pkg" &&
	printf "%064d" 0 | tr 0 z >"$p/1000000000" &&
	quilt log ns/pkg >out 2>err && test_line_count = 3 out &&
	grep -q "^warning: skipping corrupt pointer .*ns/pkg/1000000000" err && test_line_count = 1 err &&
	quilt log ns/pkg --json >out 2>err && grep -q "^warning: skipping corrupt pointer" err &&
	rm "$p/1000000000"
'

test_expect_success 'list' '
	quilt list >out && printf "ns/pkg\nother/pkg\n" >expect && test_cmp expect out &&
	quilt list --json >out && echo "[\"ns/pkg\", \"other/pkg\"]" >expect && test_cmp expect out
'

test_expect_success 'show and show --json' '
	quilt show ns/pkg@$h1 >out && grep -q "message:   one" out && grep -q " a$" out &&
	quilt show ns/pkg --json >out &&
	"$QUILT_TEST_PYTHON" -c "
import json; d = json.load(open(\"out\"))
assert set(d) >= {\"name\", \"top_hash\", \"message\", \"user_meta\", \"entries\"}
assert [e[\"logical_key\"] for e in d[\"entries\"]] == [\"a\", \"c\"]
assert set(d[\"entries\"][0]) >= {\"logical_key\", \"physical_key\", \"size\", \"hash\", \"meta\"}"
'

test_expect_success 'diff' '
	quilt diff ns/pkg@$h1 ns/pkg@$h3 --json >out &&
	echo "{\"added\": [\"c\"], \"modified\": [\"a\"], \"deleted\": [\"b\"]}" >expect && test_cmp expect out &&
	quilt diff ns/pkg@$h1 ns/pkg@$h3 >out && printf "A\tc\nM\ta\nD\tb\n" >expect && test_cmp expect out
'

test_expect_success 'verify passes on the directory and fails on changes' '
	quilt verify ns/pkg --dir d &&
	quilt verify ns/pkg --dir d --json >out && grep -q "\"ok\": true" out &&
	echo extra >d/e && test_must_fail --exit=1 quilt verify ns/pkg --dir d &&
	quilt verify ns/pkg --dir d --extra-files-ok && rm d/e &&
	echo tampered >d/c && test_must_fail quilt verify ns/pkg --dir d --json >out &&
	grep -q "\"modified\": \[\"c\"\]" out
'

test_expect_success 'control characters from a registry are escaped in human output, never sent raw' '
	mkdir evil && printf x >"evil/$(printf "k\033]0;pwned\007")" && printf y >"evil/$(printf "nl\nx")" &&
	msg=$(printf "m\n2099-01-01 00:00:00 UTC  %s (latest)  forged \302\233c" "$h3") &&
	quilt build ns/plain d --registry evilreg >/dev/null &&
	quilt build ns/evil evil --registry evilreg --message "$msg" --meta "{\"k\": \"\\u009b\"}" >/dev/null &&
	quilt log ns/evil --registry evilreg >out && test_line_count = 1 out && grep -qF "  m\n2099-01-01" out &&
	reg=evilreg/.quilt/named_packages &&
	mkdir "$reg/ns/$(printf "x\033[2J")" && cp "$reg/ns/evil/latest" "$reg/ns/$(printf "x\033[2J")/latest" &&
	cp "$reg/ns/evil/latest" "$reg/ns/evil/$(printf "9\033[2J")" &&
	quilt show ns/evil --registry evilreg >>out && quilt diff ns/plain ns/evil --registry evilreg >>out &&
	test_must_fail quilt verify ns/evil --dir d --registry evilreg >>out 2>&1 &&
	quilt list --registry evilreg >>out && quilt-show-ref --registry evilreg >>out && cat out &&
	! grep -q "$(printf "\033")" out && ! grep -q "$(printf "\007")" out && ! grep -q "$(printf "\302\233")" out &&
	grep -qF "k\x1b]0;pwned\x07" out && grep -qF "nl\nx" out && grep -qF "forged \xc2\x9bc" out &&
	grep -qF "ns/x\x1b[2J" out && grep -qF "ns/evil 9\x1b[2J" out && grep -qF "\xc2\x9b" out
'

test_expect_success 'unknown revision and ambiguous prefix' '
	test_must_fail --exit=1 quilt show ns/nothing 2>err && grep -q "ns/nothing" err &&
	test_must_fail --exit=1 quilt show ns/pkg@ffffff 2>err &&
	test_must_fail --exit=64 quilt show ns/pkg@ab 2>err
'

test_expect_success 'delete one revision re-points latest; delete all removes the package' '
	quilt delete ns/pkg --top-hash $h3 --yes &&
	test "$(quilt-rev-parse ns/pkg)" = "$h2" &&
	quilt delete ns/pkg --yes && quilt list >out && echo other/pkg >expect && test_cmp expect out &&
	test_must_fail --exit=1 quilt delete ns/pkg --yes &&
	test -f "$(local_registry)/.quilt/packages/$h3"
'

test_expect_success 'config reads and writes quilt3 config.yml' '
	quilt config default_remote_registry >out && echo null >expect && test_cmp expect out &&
	quilt config default_remote_registry s3://my-bucket &&
	quilt config default_remote_registry >out && echo s3://my-bucket >expect && test_cmp expect out &&
	grep -q "^default_remote_registry: s3://my-bucket$" "$XDG_DATA_HOME/Quilt/config.yml" &&
	test_must_fail --exit=64 quilt config no_such_key
'

test_expect_success 'config refuses registry values of the wrong kind' '
	quilt config default_remote_registry s3://my-bucket/prefix &&
	test_must_fail --exit=64 quilt config default_remote_registry ftp://x 2>err && grep -q default_remote_registry err &&
	test_must_fail --exit=64 quilt config default_remote_registry /a/path &&
	test_must_fail --exit=64 quilt config default_remote_registry "s3://Bad_Bucket!" &&
	test_must_fail --exit=64 quilt config default_local_registry s3://my-bucket &&
	test_must_fail --exit=64 quilt config default_local_registry ftp://x &&
	quilt config default_remote_registry >out && echo s3://my-bucket/prefix >expect && test_cmp expect out &&
	quilt config default_remote_registry null && quilt config default_local_registry null
'

test_expect_success 'default_local_registry from config.yml is honoured' '
	quilt config default_local_registry "file://$TRASH/elsewhere" &&
	quilt build ns/moved d >/dev/null && test -d "$TRASH/elsewhere/.quilt/named_packages/ns/moved"
'

test_done
