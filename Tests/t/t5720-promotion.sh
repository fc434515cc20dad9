#!/usr/bin/env bash
test_description='promotion between registries (dev to prod; quilt3 browse(registry=A).push(registry=B)): push --from
REV --from-registry A --registry B copies the objects server side into B under the default copy rule, downloading
no data (the proxy log has no GET of an object of A), keeps the top hash, and quilt3 installs and verifies it from B;
the conflict check in B expects what this machine knows of B; --from-registry without --from is exit 64; a Quilt+
URI naming A works the same'
. "$(dirname "$0")/lib.sh"

DEV=promote-dev-$$
PROD=promote-prod-$$
trap proxy_stop EXIT

test_expect_success S3 'setup: two buckets, a revision in dev with a multipart-sized object' '
	s3_make_bucket "$DEV" --versioned && s3_make_bucket "$PROD" --versioned &&
	make_file d/a.txt 100 && make_file d/sub/b.bin 5000 && make_file d/big.bin $((8 * 1048576 + 3)) &&
	quilt push team/data d --registry "s3://$DEV" >dev.hash
'

test_expect_success S3 'promote: no data GET in dev, every object copied into prod, the same top hash' '
	proxy_start &&
	AWS_ENDPOINT_URL=$PROXY_URL quilt push team/data --from team/data --from-registry "s3://$DEV" \
		--registry "s3://$PROD" --json >out &&
	proxy_stop &&
	"$QUILT_TEST_PYTHON" -c "import json; d = json.load(open(\"out\")); assert d[\"top_hash\"] == open(\"dev.hash\").read().strip(), d; assert d[\"registry\"] == \"s3://$PROD\", d" &&
	! grep -E "^[0-9]+ GET /$DEV/team/data/" proxy.log &&
	grep -E "^[0-9]+ GET /$DEV/.quilt/packages/" proxy.log &&
	grep -E "^[0-9]+ PUT /$PROD/team/data/a.txt" proxy.log &&
	grep -E "^[0-9]+ PUT /$PROD/team/data/big.bin\?.*partNumber" proxy.log &&
	! grep -E "^[0-9]+ PUT /$DEV/" proxy.log
'

test_expect_success S3,QUILT3 'quilt3 installs and verifies the promoted revision from prod, every key in prod' '
	quilt3_py - "s3://$PROD" "$PROD" <<-\EOF
	import sys, quilt3
	reg, bucket = sys.argv[1], sys.argv[2]
	quilt3.Package.install("team/data", registry=reg, dest="q3")
	p = quilt3.Package.browse("team/data", registry=reg)
	assert p.top_hash == open("dev.hash").read().strip()
	assert p.verify("q3")
	for lk, e in p.walk():
	    assert e.physical_key.bucket == bucket and e.physical_key.path == "team/data/" + lk and e.physical_key.version_id, (lk, e.physical_key)
	EOF
'

test_expect_success S3 'a second promotion of a newer dev revision: no conflict in prod (recorded), new objects only' '
	echo newer >d/a.txt && sleep 1 &&
	quilt push team/data d --registry "s3://$DEV" --message v2 >dev2.hash &&
	sleep 1 && quilt push team/data --from team/data --from-registry "s3://$DEV" --registry "s3://$PROD" \
		--message v2 >prod2.hash &&
	test_cmp dev2.hash prod2.hash
'

test_expect_success S3 'a push to prod from another machine in between: the promotion conflicts (exit 2)' '
	mkdir -p other &&
	HOME="$TRASH/other" XDG_DATA_HOME="$TRASH/other/.local/share" \
		quilt push team/data d --registry "s3://$PROD" --message hotfix --force >/dev/null &&
	sleep 1 && test_must_fail --exit=2 quilt push team/data --from team/data --from-registry "s3://$DEV" \
		--registry "s3://$PROD" 2>err && grep -q "^error: the latest of .team/data. in s3://$PROD" err
'

test_expect_success S3 'promotion with changes: --set on top of the dev revision' '
	echo extra >extra.txt &&
	quilt push team/more --from "team/data@$(head -c 8 dev2.hash)" --from-registry "s3://$DEV" \
		--set extra.txt=extra.txt --registry "s3://$PROD" >more.hash &&
	quilt show team/more --registry "s3://$PROD" --json >show &&
	"$QUILT_TEST_PYTHON" -c "import json; d = json.load(open(\"show\")); keys = {e[\"logical_key\"]: e[\"physical_key\"] for e in d[\"entries\"]}
assert set(keys) == {\"a.txt\", \"big.bin\", \"sub/b.bin\", \"extra.txt\"}, keys
assert all(k.startswith(\"s3://$PROD/team/more/\") for k in keys.values()), keys"
'

test_expect_success S3 '--from-registry without --from: exit 64; a bad --from-registry: exit 64' '
	test_must_fail --exit=64 quilt push team/data d --from-registry "s3://$DEV" --registry "s3://$PROD" 2>err &&
	grep -q "^error: --from-registry needs --from" err &&
	test_must_fail --exit=64 quilt push team/data --from team/data --from-registry "s3:/$DEV" --registry "s3://$PROD"
'

test_expect_success S3 'a Quilt+ URI naming dev is the base (its registry is the base registry)' '
	sleep 1 && quilt install team/data --registry "s3://$PROD" --dest seen >/dev/null &&
	quilt push team/data --from "quilt+s3://$DEV#package=team/data@$(cat dev.hash)" --registry "s3://$PROD" \
		--force >uri.hash && test_cmp dev.hash uri.hash
'

test_done
