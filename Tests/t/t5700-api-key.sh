#!/usr/bin/env bash
test_description='QUILT_API_KEY (quilt3 login_with_api_key, for CI): the key is the bearer token of the catalog'"'"'s
credentials request, the credentials it gives reach an S3 that checks signatures, nothing is written to disk, the key
is never printed or traced; a key without the qk_ prefix is refused (exit 64) before any request, a refused key is
exit 1 with a hint; the key replaces a quilt login sign-in'
. "$(dirname "$0")/lib.sh"

[ -n "${QUILT_TEST_S3_AUTH_ENDPOINT:-}" ] && [ -n "${QUILT_TEST_S3_AUTH_KEY_ID:-}" ] &&
	[ -n "${QUILT_TEST_S3_AUTH_ROLE_ARN:-}" ] && test_set_prereq S3AUTH

bucket=${QUILT_TEST_S3_AUTH_BUCKET:-}
ns=apikey$$
KEY="qk_$$_$RANDOM$RANDOM-not-for-output"
export EXTRA_SECRETS="${QUILT_TEST_S3_AUTH_SECRET:-} $KEY"
trap stub_catalog_stop EXIT
mkdir -p .aws && : >.aws/config && : >.aws/credentials
export AWS_EC2_METADATA_DISABLED=true
Q=$XDG_DATA_HOME/Quilt
: >all.out

# key_run CMD...: CMD with no AWS credentials of its own, against the auth moto, tracing to trace.log; stdout and
# stderr go to out and err, and everything to all.out.
key_run() {
	local rc
	env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN -u AWS_PROFILE \
		AWS_ENDPOINT_URL="$QUILT_TEST_S3_AUTH_ENDPOINT" QUILT_TRACE="$TRASH/trace.log" "$@" >out 2>err
	rc=$?
	{ echo "### $* (exit $rc)"; cat out err; } >>all.out
	return $rc
}

test_expect_success S3AUTH 'setup: a stub catalog that gives role credentials for the API key alone' '
	STUB_STS_ACCESS_KEY_ID=$QUILT_TEST_S3_AUTH_KEY_ID STUB_STS_SECRET_ACCESS_KEY=$QUILT_TEST_S3_AUTH_SECRET \
		stub_catalog_start --sts-endpoint "$QUILT_TEST_S3_AUTH_ENDPOINT" --role-arn "$QUILT_TEST_S3_AUTH_ROLE_ARN" \
		--api-key "$KEY" &&
	key_run quilt config "$STUB_URL" &&
	mkdir -p d/sub && echo one >d/a.txt && echo two >d/sub/b.txt
'

test_expect_success S3AUTH 'without the key (and no sign-in) the auth moto refuses the push' '
	test_must_fail --exit=1 key_run quilt push $ns/p d --registry "s3://$bucket"
'

test_expect_success S3AUTH 'QUILT_API_KEY: push and install through the catalog'"'"'s credentials for that key' '
	QUILT_API_KEY=$KEY key_run quilt push $ns/p d --registry "s3://$bucket" --message ci &&
	h=$(cat out) &&
	QUILT_API_KEY=$KEY key_run quilt install $ns/p --registry "s3://$bucket" --dest inst &&
	test_cmp d/a.txt inst/a.txt &&
	grep "/api/auth/get_credentials" stub.log >creds.log &&
	grep -q "\"Bearer <api_key>\"" creds.log && grep -q "\"status\": 200" creds.log &&
	! grep -q "/api/token" stub.log
'

test_expect_success S3AUTH 'whoami names the source; the credentials are fetched once per process' '
	: >stub.log &&
	QUILT_API_KEY=$KEY key_run quilt whoami --registry "s3://$bucket" --json &&
	"$QUILT_TEST_PYTHON" -c "import json,sys; d=json.load(open(\"out\")); assert d[\"credentials\"][\"source\"] == \"catalog\", d; assert \"QUILT_API_KEY\" in d[\"credentials\"][\"description\"], d; assert d[\"ok\"], d" &&
	test $(grep -c "/api/auth/get_credentials" stub.log) = 1
'

test_expect_success S3AUTH 'nothing on disk: no auth.json or credentials.json, the key in no file of the home' '
	test ! -e "$Q/auth.json" && test ! -e "$Q/credentials.json" &&
	! grep -r -l -F -e "$KEY" "$TRASH" --exclude=stub.secrets --exclude=.secret-patterns --exclude=.test-output
'

test_expect_success S3AUTH 'a key without the qk_ prefix is refused before any request (exit 64), as quilt3 refuses it' '
	: >stub.log &&
	QUILT_API_KEY=notakey-$$ test_must_fail --exit=64 key_run quilt list --registry "s3://$bucket" &&
	grep -q "^error: QUILT_API_KEY is not a Quilt API key: it must start with '"'"'qk_'"'"'$" err &&
	! grep -q "notakey-$$" err && test ! -s stub.log &&
	"$QUILT_TEST_PYTHON" -c "import quilt3
try:
    quilt3.login_with_api_key(\"notakey\")
except ValueError as e:
    assert \"qk_\" in str(e), e
else:
    raise SystemExit(\"quilt3 took it\")"
'

test_expect_success S3AUTH 'a key the catalog refuses: exit 1, the catalog named, a hint, the key not shown' '
	QUILT_API_KEY=qk_wrong-$$ test_must_fail --exit=1 key_run quilt push $ns/p d --registry "s3://$bucket" --force &&
	grep -q "^error: .*refused the API key in QUILT_API_KEY (HTTP 401)" err && grep -q "^hint: " err &&
	! grep -q "qk_wrong" err out trace.log
'

test_expect_success S3AUTH 'the key replaces a quilt login sign-in, as in quilt3' '
	echo "stub-code-$$" | key_run quilt login && test -s "$Q/credentials.json" &&
	: >stub.log &&
	QUILT_API_KEY=$KEY key_run quilt whoami --json &&
	grep -q "QUILT_API_KEY" out &&
	grep "/api/auth/get_credentials" stub.log | grep -q "Bearer <api_key>" &&
	key_run quilt logout
'

test_expect_success S3AUTH 'no secret in any output or trace' '
	cat trace.log >>all.out && grep -q "credentials: QUILT_API_KEY" trace.log &&
	no_secret_in all.out trace.log
'

test_done
