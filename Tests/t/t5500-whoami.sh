#!/usr/bin/env bash
test_description='quilt whoami: the credential source, the identity from STS, the region; with a registry, read and
write checks that leave nothing behind; failures exit 1 with the reason; never a secret in the output'
. "$(dirname "$0")/lib.sh"

[ -n "${QUILT_TEST_S3_AUTH_ENDPOINT:-}" ] && [ -n "${QUILT_TEST_S3_AUTH_KEY_ID:-}" ] && test_set_prereq S3AUTH
BUCKET=whoami-$$
export AWS_EC2_METADATA_DISABLED=true
export EXTRA_SECRETS="${QUILT_TEST_S3_AUTH_SECRET:-}"
mkdir -p .aws && : >.aws/config && : >.aws/credentials
: >all.out
run() {
	local rc
	"$@" >out 2>err
	rc=$?
	# The command line is shown without the values of VAR=value words (a secret is passed that way).
	{ echo "### $(printf "%s " "$@" | sed "s/\([A-Z_]*\)=[^ ]*/\1=…/g")(exit $rc)"; cat out err; } >>all.out
	return $rc
}

test_expect_success S3 'environment credentials: source, identity, region, read and write' '
	s3_make_bucket "$BUCKET" --versioned &&
	run env AWS_REGION=eu-west-1 quilt whoami --registry "s3://$BUCKET" &&
	grep -q "^credentials: the environment (AWS_ACCESS_KEY_ID)$" out &&
	grep -q "^identity:    arn:aws:" out && grep -q "^account:     [0-9]\{12\}$" out &&
	grep -q "^region:      eu-west-1$" out &&
	grep -q "^registry:    s3://$BUCKET" out &&
	grep -q "^read:        ok$" out && grep -q "^write:       ok$" out &&
	test ! -s err
'

test_expect_success S3 'the write check leaves no object, version or delete marker' '
	"$QUILT_TEST_PYTHON" - "$BUCKET" <<-\EOF
	import os, sys, boto3
	s3 = boto3.client("s3", endpoint_url=os.environ["QUILT_TEST_S3_ENDPOINT"])
	r = s3.list_object_versions(Bucket=sys.argv[1])
	assert not r.get("Versions") and not r.get("DeleteMarkers"), r
	EOF
'

test_expect_success S3 '--json: one object with the source, the identity and the checks' '
	run quilt whoami --registry "s3://$BUCKET" --json &&
	test_line_count = 1 out &&
	"$QUILT_TEST_PYTHON" -c "
import json; d = json.load(open(\"out\"))
assert d[\"credentials\"][\"source\"] == \"environment\", d
assert d[\"identity\"][\"arn\"].startswith(\"arn:aws:\"), d
assert d[\"registry\"][\"read\"] == {\"ok\": True, \"error\": None}, d
assert d[\"ok\"] is True, d
"
'

test_expect_success S3 'a profile in the credentials file is named' '
	printf "[work]\naws_access_key_id = test\naws_secret_access_key = test\n" >.aws/credentials &&
	run env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY AWS_PROFILE=work quilt whoami &&
	grep -q "^credentials: AWS profile '\''work'\'' (credentials file)$" out &&
	: >.aws/credentials
'

test_expect_success 'no credentials anywhere: exit 1, the reason and a hint' '
	test_must_fail --exit=1 run env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN quilt whoami &&
	grep -q "^credentials: none (requests are unsigned)$" out &&
	grep -q "^identity:    unknown (no credentials found" out &&
	grep -q "^error: no usable AWS credentials: no credentials found" err &&
	grep -q "^hint: sign in with '\''quilt login'\''" err
'

test_expect_success 'a local registry: read and write checked in the directory' '
	mkdir reg &&
	run env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY quilt whoami --registry reg;
	grep -q "^read:        ok$" out && grep -q "^write:       ok$" out &&
	test -z "$(ls -A reg)"
'

test_expect_success S3AUTH 'a wrong secret against an S3 that checks signatures: identity, read and write refused' '
	test_must_fail --exit=1 run env AWS_ENDPOINT_URL=$QUILT_TEST_S3_AUTH_ENDPOINT AWS_ACCESS_KEY_ID=$QUILT_TEST_S3_AUTH_KEY_ID \
		AWS_SECRET_ACCESS_KEY="${QUILT_TEST_S3_AUTH_SECRET}wrong" quilt whoami --registry "s3://$QUILT_TEST_S3_AUTH_BUCKET" &&
	grep -q "^identity:    unknown (cannot tell whose the credentials are: STS refused the credentials: SignatureDoesNotMatch)$" out &&
	grep -q "^read:        no (" out && grep -q "^write:       no (" out &&
	grep -q "^error: no usable AWS credentials" err && grep -q "^hint: check the credentials" err
'

test_expect_success S3AUTH 'the right key: everything works' '
	run env AWS_ENDPOINT_URL=$QUILT_TEST_S3_AUTH_ENDPOINT AWS_ACCESS_KEY_ID=$QUILT_TEST_S3_AUTH_KEY_ID \
		AWS_SECRET_ACCESS_KEY="$QUILT_TEST_S3_AUTH_SECRET" quilt whoami --registry "s3://$QUILT_TEST_S3_AUTH_BUCKET" &&
	grep -q "^identity:    arn:aws:iam::[0-9]*:user/quilt-test$" out && grep -q "^write:       ok$" out
'

test_expect_success S3 'no secret in any output above, --verbose included' '
	run env AWS_SECRET_ACCESS_KEY=S3CR3T-whoami-$$ quilt whoami -v --registry reg;
	EXTRA_SECRETS="$EXTRA_SECRETS S3CR3T-whoami-$$" no_secret_in all.out
'

test_done
