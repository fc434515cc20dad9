#!/usr/bin/env bash
test_description='catalog sign-in like quilt3: quilt config URL, login (stdin and terminal), the catalog credentials
replacing the AWS chain against an S3 that checks signatures, renewal of expired tokens and credentials (also in the
middle of a push), logout, the catalog page after a push, interplay with quilt3 both ways, and no secret in any output'
. "$(dirname "$0")/lib.sh"

# The auth-checking moto (scripts/lib/moto.sh) with a role the stub catalog hands out credentials of.
[ -n "${QUILT_TEST_S3_AUTH_ENDPOINT:-}" ] && [ -n "${QUILT_TEST_S3_AUTH_KEY_ID:-}" ] &&
	[ -n "${QUILT_TEST_S3_AUTH_ROLE_ARN:-}" ] && test_set_prereq S3AUTH

bucket=${QUILT_TEST_S3_AUTH_BUCKET:-}
# The auth moto lives as long as scripts/test: names of this run only.
ns=catalog$$
export EXTRA_SECRETS=${QUILT_TEST_S3_AUTH_SECRET:-}
trap stub_catalog_stop EXIT
mkdir -p .aws && : >.aws/config && : >.aws/credentials
export AWS_EC2_METADATA_DISABLED=true
Q=$XDG_DATA_HOME/Quilt
: >all.out

# cat_run CMD...: CMD with no AWS credentials of its own (only the catalog's), against the auth moto; its stdout and
# stderr go to out and err and are appended to all.out.
cat_run() {
	local rc
	env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN -u AWS_PROFILE \
		AWS_ENDPOINT_URL="$QUILT_TEST_S3_AUTH_ENDPOINT" "$@" >out 2>err
	rc=$?
	{ echo "### $* (exit $rc)"; cat out err; } >>all.out
	return $rc
}

# quilt3 with the same environment (telemetry off; a fake xdg-open so that its login never reaches a browser).
mkdir -p fakebin && printf '#!/bin/sh\necho "$@" >>"%s/xdg-open.calls"\n' "$TRASH" >fakebin/xdg-open && chmod +x fakebin/xdg-open
q3() {
	PATH="$TRASH/fakebin:$PATH" cat_run env QUILT_DISABLE_USAGE_METRICS=true QUILT_MINIMIZE_STDOUT=true \
		QUILT_DISABLE_CACHE=true "$QUILT_TEST_PYTHON" "$@"
}
# q3cli ARGS...: quilt3's command line the same way, without a controlling terminal (so its getpass reads stdin).
q3cli() {
	PATH="$TRASH/fakebin:$PATH" cat_run env QUILT_DISABLE_USAGE_METRICS=true QUILT_MINIMIZE_STDOUT=true \
		QUILT_DISABLE_CACHE=true setsid -w "$REPO/.venv/bin/quilt3" "$@"
}

# json_get FILE EXPR: evaluates EXPR on the JSON in FILE (as `d`).
json_get() { "$QUILT_TEST_PYTHON" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@"; }

test_expect_success S3AUTH 'setup: a stub catalog issuing role credentials from the auth moto' '
	STUB_STS_ACCESS_KEY_ID=$QUILT_TEST_S3_AUTH_KEY_ID STUB_STS_SECRET_ACCESS_KEY=$QUILT_TEST_S3_AUTH_SECRET \
		stub_catalog_start --sts-endpoint "$QUILT_TEST_S3_AUTH_ENDPOINT" --role-arn "$QUILT_TEST_S3_AUTH_ROLE_ARN" &&
	mkdir -p d/sub && echo one >d/a.txt && echo two >d/sub/b.txt &&
	echo "stub-code-$$-$RANDOM" >code
'

test_expect_success S3AUTH 'login without a configured catalog says how to configure one' '
	test_must_fail --exit=1 cat_run quilt login <code &&
	test_line_count = 2 err &&
	grep -q "^error: no Quilt catalog is configured$" err &&
	grep -q "^hint: configure it first: quilt config https://" err
'

test_expect_success S3AUTH 'an unreachable catalog: the URL and the cause' '
	port=$("$QUILT_TEST_PYTHON" -c "import socket; s=socket.socket(); s.bind((\"127.0.0.1\",0)); print(s.getsockname()[1])") &&
	test_must_fail --exit=1 cat_run quilt config http://127.0.0.1:$port &&
	grep -q "^error: cannot reach the catalog at '\''http://127.0.0.1:$port/config.json'\'': .*onnect" err &&
	grep -q "^hint: " err && test ! -e "$Q/config.yml" &&
	test_must_fail --exit=64 cat_run quilt config http://:80 && grep -q "^error: invalid catalog URL" err
'

test_expect_success S3AUTH 'quilt config URL: quilt3s keys from config.json, navigator_url, a backup of the old file' '
	cat_run quilt config default_remote_registry s3://mybucket &&
	cat_run quilt config "$STUB_URL/" &&
	test ! -s out &&
	cat_run quilt config navigator_url && echo "$STUB_URL" >expect && test_cmp expect out &&
	cat_run quilt config registryUrl && test_cmp expect out &&
	cat_run quilt config region && echo us-east-2 >expect && test_cmp expect out &&
	cat_run quilt config default_remote_registry && echo null >expect && test_cmp expect out &&
	! grep -q -e "^mode:" -e "^ssoAuth:" -e "^stackVersion:" "$Q/config.yml" &&
	ls "$Q" | grep -q "^config.yml.backup.[0-9]\{8\}T[0-9]\{6\}\.[0-9]\{6\}Z$" &&
	grep -q "default_remote_registry: s3://mybucket" "$Q"/config.yml.backup.*
'

test_expect_success S3AUTH 'without a sign-in, no AWS credentials: a push to the bucket is refused' '
	test_must_fail --exit=1 cat_run quilt push $ns/pkg d --registry "s3://$bucket" &&
	grep -q "^error: " err
'

test_expect_success S3AUTH 'a wrong code: one line and a hint; nothing stored' '
	echo nope | test_must_fail --exit=1 cat_run quilt login &&
	test_line_count = 2 err &&
	grep -q "^error: the catalog did not accept the code$" err &&
	grep -q "^hint: get a new code from $STUB_URL/login" err &&
	echo error-in-body | test_must_fail --exit=1 cat_run quilt login &&
	grep -q "^error: the catalog did not accept the code: Invalid code$" err &&
	test ! -e "$Q/auth.json" && test ! -e "$Q/credentials.json" &&
	test_must_fail --exit=64 cat_run quilt login </dev/null && grep -q "^error: no code was given" err
'

test_expect_success S3AUTH 'login from standard input: quilt3s auth.json and credentials.json, mode 0600' '
	cat_run quilt login <code && test ! -s out &&
	test "$(stat -c %a "$Q/auth.json")" = 600 && test "$(stat -c %a "$Q/credentials.json")" = 600 &&
	json_get "$Q/auth.json" "list(d) == [\"$STUB_URL\"] and list(d[\"$STUB_URL\"]) == [\"refresh_token\", \"access_token\", \"expires_at\"]" >ok &&
	echo True >expect && test_cmp expect ok &&
	json_get "$Q/credentials.json" "\" \".join(d)" >keys &&
	echo "access_key secret_key token expiry_time" >expect && test_cmp expect keys &&
	test "$(tail -c 1 "$Q/credentials.json")" = "}" &&
	grep -q "^{\"$STUB_URL\": {\"refresh_token\": \"stub-refresh-" "$Q/auth.json" &&
	grep "\"POST\", \"path\": \"/api/token\"" stub.log | grep -q "refresh_token=<code>"
'

test_expect_success S3AUTH 'the catalog credentials sign the push (and replace AWS keys in the environment)' '
	cat_run quilt push $ns/pkg d --registry "s3://$bucket" --message signed --json &&
	top=$(json_get out "d[\"top_hash\"]") &&
	json_get out "d[\"catalog_url\"]" >url &&
	echo "$STUB_URL/b/$bucket/packages/$ns/pkg/tree/$top" >expect && test_cmp expect url &&
	cat_run env AWS_ACCESS_KEY_ID=AKIAWRONGWRONGWRONG AWS_SECRET_ACCESS_KEY=wrong \
		quilt push $ns/pkg d --registry "s3://$bucket" --message again --force &&
	test_line_count = 1 out && top=$(cat out)
'

test_expect_success S3AUTH,QUILT3 'we signed in, quilt3 browses the package with our files' '
	q3 -c "import quilt3; p = quilt3.Package.browse(\"$ns/pkg\", registry=\"s3://$bucket\"); print(p.top_hash); print(p[\"a.txt\"].get_bytes().decode(), end=\"\")" &&
	printf "%s\none\n" "$top" >expect && test_cmp expect out
'

test_expect_success S3AUTH 'renewal: an expired access token and expired credentials are renewed before the push' '
	old_refresh=$(json_get "$Q/auth.json" "d[\"$STUB_URL\"][\"refresh_token\"]") &&
	"$QUILT_TEST_PYTHON" - "$Q" "$STUB_URL" <<-\EOF &&
	import json, sys
	q, url = sys.argv[1:]
	a = json.load(open(q + "/auth.json")); a[url]["expires_at"] = 1000
	json.dump(a, open(q + "/auth.json", "w"))
	c = json.load(open(q + "/credentials.json")); c["expiry_time"] = "2001-01-01T00:00:00+00:00"
	json.dump(c, open(q + "/credentials.json", "w"))
	EOF
	: >stub.log &&
	cat_run quilt push $ns/renewed d --registry "s3://$bucket" &&
	grep "/api/token" stub.log | grep -q "refresh_token=<refresh_token#" &&
	grep -q "/api/auth/get_credentials" stub.log &&
	test "$(json_get "$Q/auth.json" "d[\"$STUB_URL\"][\"refresh_token\"]")" != "$old_refresh" &&
	json_get "$Q/credentials.json" "d[\"expiry_time\"] > \"2002\"" | grep -q True
'

test_expect_success S3AUTH 'renewal in the middle of a long push: once, after the first requests' '
	mkdir many && for i in $(seq 300); do echo "file $i" >many/f$i.txt; done &&
	# The same push under another name (the same requests) measures how long a push takes on this machine now, so
	# that the advisory window can open a third of the way into the next one, however fast or loaded the machine.
	first=$(date +%s.%N) &&
	cat_run env QUILT_TRANSFER_MAX_CONCURRENCY=1 quilt push $ns/many-first many --registry "s3://$bucket" &&
	took=$("$QUILT_TEST_PYTHON" -c "import sys, time; print(time.time() - float(sys.argv[1]))" "$first") &&
	"$QUILT_TEST_PYTHON" - "$Q" "$took" <<-\EOF &&
	import datetime, json, sys
	q, took = sys.argv[1], float(sys.argv[2])
	c = json.load(open(q + "/credentials.json"))
	# The advisory window (15 minutes before expiry) opens a third of a push from now.
	t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=900 + took / 3)
	c["expiry_time"] = t.isoformat()
	json.dump(c, open(q + "/credentials.json", "w"))
	EOF
	: >stub.log && start=$(date +%s.%N) &&
	cat_run env QUILT_TRANSFER_MAX_CONCURRENCY=1 quilt push $ns/many many --registry "s3://$bucket" &&
	end=$(date +%s.%N) &&
	grep -c "/api/auth/get_credentials" stub.log >count && echo 1 >expect && test_cmp expect count &&
	renewed=$("$QUILT_TEST_PYTHON" -c "import json; print([json.loads(l)[\"time\"] for l in open(\"stub.log\") if \"get_credentials\" in l][0])") &&
	"$QUILT_TEST_PYTHON" -c "import sys; s, r, e, t = map(float, sys.argv[1:]); assert s + t / 6 < r < e, (s, r, e, t)" \
		"$start" "$renewed" "$end" "$took"
'

test_expect_success S3AUTH 'a renewal that fails says to sign in again' '
	stub_catalog_stop &&
	STUB_STS_ACCESS_KEY_ID=$QUILT_TEST_S3_AUTH_KEY_ID STUB_STS_SECRET_ACCESS_KEY=$QUILT_TEST_S3_AUTH_SECRET \
		stub_catalog_start --port "${STUB_URL##*:}" --sts-endpoint "$QUILT_TEST_S3_AUTH_ENDPOINT" \
		--role-arn "$QUILT_TEST_S3_AUTH_ROLE_ARN" &&
	"$QUILT_TEST_PYTHON" - "$Q" "$STUB_URL" <<-\EOF &&
	import json, sys
	q, url = sys.argv[1:]
	a = json.load(open(q + "/auth.json")); a[url]["expires_at"] = 1000
	json.dump(a, open(q + "/auth.json", "w"))
	c = json.load(open(q + "/credentials.json")); c["expiry_time"] = "2001-01-01T00:00:00Z"
	json.dump(c, open(q + "/credentials.json", "w"))
	EOF
	test_must_fail --exit=1 cat_run quilt push $ns/pkg d --registry "s3://$bucket" --force &&
	test_line_count = 2 err &&
	grep -q "^error: cannot renew the catalog sign-in: .*401" err &&
	grep -q "^hint: run '\''quilt login'\'' again$" err
'

test_expect_success S3AUTH,QUILT3 'quilt3 signs in, we push with its files' '
	cat_run quilt logout &&
	q3cli login <code && grep -q "$STUB_URL/login" out &&
	test "$(json_get "$Q/credentials.json" "len(d)")" = 4 &&
	cat_run quilt push $ns/from-quilt3 d --registry "s3://$bucket" &&
	test_line_count = 1 out
'

test_expect_success S3AUTH 'logout empties both files (0600) like quilt3; a second one has nothing to do' '
	cat_run quilt logout --json && echo "{\"logged_out\": true}" >expect && test_cmp expect out &&
	printf "{}" >expect && test_cmp expect "$Q/auth.json" && test_cmp expect "$Q/credentials.json" &&
	test "$(stat -c %a "$Q/auth.json")" = 600 &&
	cat_run quilt logout --json && echo "{\"logged_out\": false}" >expect && test_cmp expect out &&
	test_must_fail --exit=1 cat_run quilt push $ns/pkg d --registry "s3://$bucket" --force
'

test_expect_success S3AUTH 'a terminal: the page, a prompt, the code read without echo, a browser on a desktop' '
	cat_run env DISPLAY=:99 PATH="$TRASH/fakebin:$PATH" "$QUILT_TEST_PYTHON" "$REPO/Tests/t/pty-login.py" <code &&
	grep -q "$STUB_URL/login" out && grep -q "Enter the code from the webpage: " out &&
	! grep -q -F "$(cat code)" out &&
	grep -q "^$STUB_URL/login$" xdg-open.calls &&
	test "$(json_get "$Q/credentials.json" "len(d)")" = 4
'

test_expect_success S3AUTH 'whoami: the catalog, the assumed role, read and write checked and cleaned up' '
	cat_run quilt whoami --registry "s3://$bucket" &&
	grep -q "^credentials: the Quilt catalog $STUB_URL (quilt login)$" out &&
	grep -q "^identity:    arn:aws:sts::[0-9]*:assumed-role/quilt-catalog/" out &&
	grep -q "^region:      us-east-1$" out && grep -q "^registry:    s3://$bucket (region us-east-1)$" out &&
	grep -q "^read:        ok$" out && grep -q "^write:       ok$" out &&
	cat_run quilt whoami --registry "s3://$bucket" --json &&
	json_get out "\"%s %s %s\" % (d[\"credentials\"][\"source\"], d[\"ok\"], d[\"registry\"][\"write\"][\"ok\"])" >got &&
	echo "catalog True True" >expect && test_cmp expect got &&
	AWS_ENDPOINT_URL=$QUILT_TEST_S3_AUTH_ENDPOINT AWS_ACCESS_KEY_ID=$QUILT_TEST_S3_AUTH_KEY_ID \
	AWS_SECRET_ACCESS_KEY=$QUILT_TEST_S3_AUTH_SECRET "$QUILT_TEST_PYTHON" - "$bucket" <<-\EOF
	import sys, boto3
	s3 = boto3.client("s3")
	left = [v["Key"] for v in s3.list_object_versions(Bucket=sys.argv[1]).get("Versions", []) if "whoami" in v["Key"]]
	left += [m["Key"] for m in s3.list_object_versions(Bucket=sys.argv[1]).get("DeleteMarkers", []) if "whoami" in m["Key"]]
	assert not left, left
	EOF
'

test_expect_success S3AUTH 'no output of any command above holds a token, a code, a key or a signature' '
	no_secret_in all.out && ! grep -F -f stub.secrets stub.log
'

test_expect_success S3AUTH '--verbose shows the S3 requests of a catalog-signed push and still no secret' '
	cat_run quilt push $ns/pkg d --registry "s3://$bucket" --force --verbose &&
	grep -q "^verbose: S3 PutObject" err &&
	cat_run quilt whoami --registry "s3://$bucket" --verbose &&
	no_secret_in all.out
'

test_expect_success S3AUTH 'stop the stub' 'stub_catalog_stop'

test_done
