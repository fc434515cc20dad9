#!/usr/bin/env bash
test_description='AWS IAM Identity Center (SSO) profiles: the sign-in `aws sso login` cached (sso-session and legacy
forms) is exchanged at the SSO portal (GetRoleCredentials, AWS_ENDPOINT_URL_SSO) for role credentials that an S3
checking signatures accepts; a missing or expired sign-in is one line and the `aws sso login` hint; no token shown'
. "$(dirname "$0")/lib.sh"

[ -n "${QUILT_TEST_S3_AUTH_ENDPOINT:-}" ] && [ -n "${QUILT_TEST_S3_AUTH_KEY_ID:-}" ] &&
	[ -n "${QUILT_TEST_S3_AUTH_ROLE_ARN:-}" ] && test_set_prereq S3AUTH

bucket=${QUILT_TEST_S3_AUTH_BUCKET:-}
ns=sso$$
SSO_TOKEN="sso-access-token-$$-$RANDOM$RANDOM"
export EXTRA_SECRETS="${QUILT_TEST_S3_AUTH_SECRET:-} $SSO_TOKEN"
trap stub_catalog_stop EXIT
export AWS_EC2_METADATA_DISABLED=true
mkdir -p .aws/sso/cache && : >.aws/credentials
: >all.out

# sso_run PROFILE CMD...: CMD with only the SSO profile for credentials, against the auth moto and the stub portal.
sso_run() {
	local rc profile=$1; shift
	env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN AWS_PROFILE="$profile" \
		AWS_ENDPOINT_URL="$QUILT_TEST_S3_AUTH_ENDPOINT" AWS_ENDPOINT_URL_SSO="$STUB_URL" "$@" >out 2>err
	rc=$?
	{ echo "### $profile: $* (exit $rc)"; cat out err; } >>all.out
	return $rc
}

# cache_token KEY EXPIRES: writes the AWS CLI's cache file for KEY (a session name or a start URL).
cache_token() {
	"$QUILT_TEST_PYTHON" - "$1" "$2" "$SSO_TOKEN" <<-\EOF
	import hashlib, json, sys
	key, expires, token = sys.argv[1:]
	path = ".aws/sso/cache/" + hashlib.sha1(key.encode()).hexdigest() + ".json"
	json.dump({"startUrl": "https://example.awsapps.com/start", "region": "us-east-1", "accessToken": token,
	           "expiresAt": expires}, open(path, "w"))
	EOF
}

test_expect_success S3AUTH 'setup: the stub SSO portal, sso-session and legacy profiles' '
	STUB_STS_ACCESS_KEY_ID=$QUILT_TEST_S3_AUTH_KEY_ID STUB_STS_SECRET_ACCESS_KEY=$QUILT_TEST_S3_AUTH_SECRET \
		stub_catalog_start --sts-endpoint "$QUILT_TEST_S3_AUTH_ENDPOINT" --role-arn "$QUILT_TEST_S3_AUTH_ROLE_ARN" \
		--sso-token "$SSO_TOKEN" &&
	cat >.aws/config <<-\EOF &&
	[profile dev]
	sso_session = corp
	sso_account_id = 123456789012
	sso_role_name = DataEngineer
	region = us-east-1

	[sso-session corp]
	sso_start_url = https://example.awsapps.com/start
	sso_region = us-east-1
	sso_registration_scopes = sso:account:access

	[profile legacy]
	sso_start_url = https://legacy.awsapps.com/start
	sso_region = us-west-2
	sso_account_id = 123456789012
	sso_role_name = DataEngineer

	[profile nosession]
	sso_session = missing
	sso_account_id = 123456789012
	sso_role_name = DataEngineer
	EOF
	mkdir d && echo one >d/a.txt
'

test_expect_success S3AUTH 'no cached sign-in: one line and the aws sso login hint' '
	test_must_fail --exit=1 sso_run dev quilt push $ns/pkg d --registry "s3://$bucket" &&
	test_line_count = 2 err &&
	grep -q "^error: AWS SSO profile '\''dev'\'' needs a new sign-in: no cached sign-in$" err &&
	grep -q "^hint: run '\''aws sso login --profile dev'\''$" err
'

test_expect_success S3AUTH 'an expired sign-in: one line and the hint' '
	cache_token corp 2001-01-01T00:00:00Z &&
	test_must_fail --exit=1 sso_run dev quilt push $ns/pkg d --registry "s3://$bucket" &&
	test_line_count = 2 err &&
	grep -q "^error: AWS SSO profile '\''dev'\'' needs a new sign-in: the sign-in has expired$" err &&
	grep -q "^hint: run '\''aws sso login --profile dev'\''$" err
'

test_expect_success S3AUTH 'a valid sign-in (sso-session): the portal role credentials sign the push' '
	cache_token corp 2099-01-01T00:00:00Z &&
	sso_run dev quilt push $ns/pkg d --registry "s3://$bucket" &&
	test_line_count = 1 out &&
	grep "/federation/credentials" stub.log | grep -q "account_id=123456789012&role_name=DataEngineer" &&
	grep "/federation/credentials" stub.log | grep -q "<sso_token>"
'

test_expect_success S3AUTH 'the legacy form (sso_start_url in the profile), cached under the start URL' '
	cache_token https://legacy.awsapps.com/start 2099-01-01T00:00:00UTC &&
	sso_run legacy quilt-rev-parse --registry "s3://$bucket" $ns/pkg &&
	test_line_count = 1 out
'

test_expect_success S3AUTH 'a token the portal refuses: the same hint' '
	"$QUILT_TEST_PYTHON" - <<-\EOF &&
	import glob, json
	for path in glob.glob(".aws/sso/cache/*.json"):
	    d = json.load(open(path)); d["accessToken"] = "revoked"; json.dump(d, open(path, "w"))
	EOF
	test_must_fail --exit=1 sso_run dev quilt push $ns/pkg d --registry "s3://$bucket" --force &&
	grep -q "^error: AWS SSO profile '\''dev'\'' needs a new sign-in: the SSO portal refused the cached sign-in$" err &&
	grep -q "^hint: run '\''aws sso login --profile dev'\''$" err &&
	cache_token corp 2099-01-01T00:00:00Z
'

test_expect_success S3AUTH 'a profile naming an sso-session that does not exist' '
	test_must_fail --exit=1 sso_run nosession quilt push $ns/pkg d --registry "s3://$bucket" &&
	grep -q "^error: cannot get AWS credentials from SSO profile '\''nosession'\'': no \[sso-session missing\] section" err
'

test_expect_success S3AUTH 'whoami names the SSO profile and the role' '
	sso_run dev quilt whoami --registry "s3://$bucket" &&
	grep -q "^credentials: AWS IAM Identity Center (SSO) profile '\''dev'\''$" out &&
	grep -q "^identity:    arn:aws:sts::123456789012:assumed-role/quilt-catalog/" out &&
	grep -q "^write:       ok$" out &&
	sso_run dev quilt whoami --json && grep -q "\"source\": \"sso\"" out
'

test_expect_success S3AUTH 'a catalog sign-in still wins over the SSO profile (quilt3 precedence)' '
	mkdir -p "$XDG_DATA_HOME/Quilt" &&
	printf "{\"access_key\": \"ASIANOTREAL\", \"secret_key\": \"x\", \"token\": \"y\", \"expiry_time\": \"2099-01-01T00:00:00Z\"}" \
		>"$XDG_DATA_HOME/Quilt/credentials.json" &&
	sso_run dev quilt whoami; grep -q "^credentials: the Quilt catalog" out &&
	printf "{}" >"$XDG_DATA_HOME/Quilt/credentials.json" &&
	sso_run dev quilt whoami && grep -q "^credentials: AWS IAM Identity Center" out
'

test_expect_success S3AUTH 'no output above holds the SSO token or a secret' '
	no_secret_in all.out && ! grep -F -f stub.secrets stub.log && ! grep -F "$SSO_TOKEN" stub.log
'

test_expect_success S3AUTH 'stop the stub' 'stub_catalog_stop'

test_done
