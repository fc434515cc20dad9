#!/usr/bin/env bash
test_description='quilt push to S3 (moto), then log, list, show, delete; --json forms; quiet stderr when not a terminal'
. "$(dirname "$0")/lib.sh"

bucket=push-$$-$RANDOM
reg=s3://$bucket

test_expect_success S3 'setup' '
	s3_make_bucket "$bucket" --versioned &&
	mkdir -p d/sub && echo a >d/a.txt && echo b >d/sub/b.txt && make_file d/big.bin 8388609 &&
	mkdir d2 && echo changed >d2/a.txt
'

# Without push: build (local files, metadata to S3) gives revisions to log, list and delete on S3.
test_expect_success S3 'build to S3, then log, list --json and delete (no push needed)' '
	s3_make_bucket "$bucket-b" --versioned &&
	b1=$(quilt build ns/b d --registry "s3://$bucket-b" --message one 2>err) && test ! -s err &&
	sleep 1.1 &&
	b2=$(quilt build ns/b d2 --registry "s3://$bucket-b" --message two) &&
	quilt log ns/b --registry "s3://$bucket-b" --json >blog.json &&
	"$QUILT_TEST_PYTHON" -c "
import json; rows = json.load(open(\"blog.json\"))
assert [r[\"top_hash\"] for r in rows] == [\"$b2\", \"$b1\"], rows
" &&
	test "$(quilt list --registry "s3://$bucket-b" --json)" = "[\"ns/b\"]" &&
	quilt delete ns/b --top-hash "$b2" --yes --registry "s3://$bucket-b" &&
	test "$(quilt-rev-parse --registry "s3://$bucket-b" ns/b)" = "$b1" &&
	quilt delete ns/b --yes --registry "s3://$bucket-b" &&
	test -z "$(quilt list --registry "s3://$bucket-b")" &&
	quilt-cat-manifest --registry "s3://$bucket-b" "$b2" >/dev/null
'

test_expect_success S3 'push --json prints name, top_hash, registry, timestamp; stderr stays empty' '
	quilt push ns/p d --registry "$reg" --message first --json >push.json 2>err &&
	test ! -s err &&
	"$QUILT_TEST_PYTHON" -c "
import json; j = json.load(open(\"push.json\"))
assert j[\"name\"] == \"ns/p\" and j[\"registry\"] == \"$reg\" and len(j[\"top_hash\"]) == 64, j
assert isinstance(j[\"timestamp\"], int), j
open(\"top1\", \"w\").write(j[\"top_hash\"])
" &&
	test "$(quilt-rev-parse --registry "$reg" ns/p)" = "$(cat top1)"
'

test_expect_success S3 'the top hash equals a local build of the same inputs' '
	test "$(quilt build ns/local d --message first --registry localreg)" = "$(cat top1)"
'

test_expect_success S3 'pushed data lands under <ns>/<name>/ with versionIds' '
	quilt show ns/p --registry "$reg" --json >show.json &&
	grep -q "\"s3://$bucket/ns/p/big.bin?versionId=" show.json &&
	grep -q "\"s3://$bucket/ns/p/sub/b.txt?versionId=" show.json
'

test_expect_success S3 'push --from: a second revision; log lists both newest first' '
	sleep 1.1 &&
	quilt push ns/p d2 --from ns/p --registry "$reg" --message second >top2 2>err &&
	test ! -s err && test_line_count = 1 top2 &&
	quilt log ns/p --registry "$reg" --json >log.json &&
	"$QUILT_TEST_PYTHON" -c "
import json; rows = json.load(open(\"log.json\"))
assert [(r[\"top_hash\"], r[\"message\"]) for r in rows] == [(open(\"top2\").read().strip(), \"second\"), (open(\"top1\").read(), \"first\")], rows
"
'

test_expect_success S3 'push with no DIR publishes the latest local revision' '
	h=$(quilt build ns/fromlocal d --message local) &&
	quilt push ns/fromlocal --registry "$reg" >out 2>err && test ! -s err &&
	test "$(quilt-rev-parse --registry "$reg" ns/fromlocal)" = "$h"
'

test_expect_success S3 'list shows the pushed packages (--json too)' '
	quilt list --registry "$reg" >list &&
	printf "ns/fromlocal\nns/p\n" >expect && sort list | test_cmp expect - &&
	quilt list --registry "$reg" --json >list.json && grep -q "\"ns/p\"" list.json
'

test_expect_success S3 'a conflicting push exits 2 with a hint; --force wins' '
	test_must_fail --exit=2 quilt push ns/p d --from "ns/p@$(cat top1)" --registry "$reg" >out 2>err &&
	test ! -s out && grep -q "^error: " err && grep -q "^hint: .*--force\|^hint: .*--from" err &&
	test "$(quilt-rev-parse --registry "$reg" ns/p)" = "$(cat top2)" &&
	sleep 1.1 &&
	quilt push ns/p --from "ns/p@$(cat top1)" --registry "$reg" --message first --force >out 2>err && test ! -s err &&
	test "$(quilt-rev-parse --registry "$reg" ns/p)" = "$(cat top1)"
'

test_expect_success S3 'push --dedupe of the latest revision writes no new pointer' '
	quilt-show-ref --registry "$reg" ns/p >before &&
	sleep 1.1 &&
	quilt push ns/p d --from ns/p --registry "$reg" --message first --dedupe >out 2>err && test ! -s err &&
	quilt-show-ref --registry "$reg" ns/p >after && test_cmp before after
'

test_expect_success S3 'QUILT_MINIMIZE_STDOUT=false with stderr not a terminal: still no progress output' '
	echo more >d/more.txt &&
	QUILT_MINIMIZE_STDOUT=false quilt push ns/quiet d --registry "$reg" >out 2>err &&
	test ! -s err && test_line_count = 1 out
'

test_expect_success S3 'quilt3 reads what we pushed' '
	if test_have_prereq QUILT3; then
		quilt3_py -c "
import quilt3, sys
p = quilt3.Package.browse(\"ns/p\", registry=\"$reg\")
assert p.top_hash == open(\"top1\").read(), p.top_hash
assert p[\"sub/b.txt\"].get_bytes() == b\"b\\n\"
"
	fi
'

test_expect_success S3 'delete --top-hash removes those pointers; delete removes the package; data stays' '
	quilt delete ns/p --top-hash "$(cat top2)" --yes --registry "$reg" 2>err &&
	! quilt-show-ref --registry "$reg" ns/p | grep -q "$(cat top2)" &&
	quilt delete ns/p --yes --registry "$reg" &&
	quilt list --registry "$reg" >list && ! grep -qx ns/p list &&
	test_must_fail quilt-rev-parse --registry "$reg" ns/p 2>/dev/null &&
	test "$(quilt-cat-manifest --registry "$reg" "$(cat top1)" | wc -l)" -eq 4
'

test_expect_success S3 'push to a missing bucket: exit 1, the bucket named' '
	test_must_fail --exit=1 quilt push ns/x d --registry "s3://no-such-$bucket" >out 2>err &&
	test ! -s out && grep "^error: " err | grep -qF "no-such-$bucket"
'

test_expect_success S3 'push without --registry uses default_remote_registry from quilt config' '
	quilt config default_remote_registry "$reg" &&
	quilt push ns/cfg d --json >cfg.json 2>err && test ! -s err &&
	quilt-rev-parse --registry "$reg" ns/cfg >/dev/null
'

test_done
