#!/usr/bin/env bash
test_description='registry URLs and the hints around them: s3:/bucket and s3:bucket are refused (exit 64, no local
folder made), S3://bucket is s3://bucket as in quilt3; a missing bucket is named as such, not as a workflows config
problem; --dest outside the registry bucket suggests --registry, a push registry with a prefix suggests --dest; "no
such package" names the registry; quilt config of a catalog address without a scheme says it needs one'
. "$(dirname "$0")/lib.sh"

BUCKET=urls-$$
mkdir -p d && echo one >d/a.txt

for bad in "s3:/$BUCKET" "s3:$BUCKET" "s3:" "S3:/$BUCKET"; do
	test_expect_success "'$bad' is refused with exit 64 and makes no folder" '
		test_must_fail --exit=64 quilt build ns/p d --registry "'"$bad"'" 2>err &&
		grep -q "^error: invalid registry .*an S3 registry is s3://bucket\[/prefix\]" err &&
		test_must_fail --exit=64 quilt list --registry "'"$bad"'" &&
		test_must_fail --exit=64 quilt push ns/p d --registry "'"$bad"'" &&
		! ls -d s3:* S3:* 2>/dev/null
	'
done

test_expect_success S3 'S3://bucket is s3://bucket: push, list, log; quilt3 takes it too' '
	s3_make_bucket "$BUCKET" --versioned &&
	quilt push ns/p d --registry "S3://$BUCKET" --json >out &&
	grep -q "\"registry\": \"s3://$BUCKET\"" out &&
	quilt list --registry "S3://$BUCKET" >list && echo ns/p >expect && test_cmp expect list &&
	quilt log ns/p --registry "S3://$BUCKET" >/dev/null &&
	! ls -d S3:* 2>/dev/null &&
	quilt3_py -c "import sys, quilt3; print(quilt3.Package.browse(\"ns/p\", registry=sys.argv[1]).top_hash)" \
		"S3://$BUCKET" >q3 && grep -q "$(grep -o "[0-9a-f]\{64\}" out)" q3
'

test_expect_success S3 'a missing bucket: the error is about the bucket, not a workflows config' '
	test_must_fail --exit=1 quilt push ns/p d --registry "s3://no-such-$BUCKET" 2>err &&
	grep -q "^error: no such bucket .no-such-$BUCKET." err && ! grep -q workflows err &&
	test_must_fail --exit=1 quilt build ns/p d --registry "s3://no-such-$BUCKET" 2>err &&
	! grep -q workflows err && grep -q "no-such-$BUCKET" err
'

test_expect_success S3 '--dest outside the registry bucket: exit 64, a hint to make it the registry' '
	test_must_fail --exit=64 quilt push ns/p d --registry "s3://$BUCKET" --dest "s3://elsewhere-$$/x" 2>err &&
	grep -q "^error: --dest must be in the registry bucket" err &&
	grep -q "^hint: to publish into that bucket, make it the registry: --registry s3://elsewhere-$$$" err
'

test_expect_success S3 'a push registry with a prefix: exit 64, a hint to use --dest' '
	test_must_fail --exit=64 quilt push ns/p d --registry "s3://$BUCKET/team/data" 2>err &&
	grep -q "^error: a push registry must be an S3 bucket" err &&
	grep -q "^hint: to put the data under a prefix: --registry s3://$BUCKET --dest s3://$BUCKET/team/data$" err
'

test_expect_success S3 '"no such package" names the registry it looked in' '
	test_must_fail --exit=1 quilt log ns/none --registry "s3://$BUCKET" 2>err &&
	grep -q "^error: no such package .ns/none. in .s3://$BUCKET.$" err &&
	test_must_fail --exit=1 quilt show ns/none 2>err &&
	grep -q "^error: no such package .ns/none. in .file://$XDG_DATA_HOME/Quilt/packages.$" err &&
	test_must_fail --exit=1 quilt install ns/none --registry "s3://$BUCKET" --dest x 2>err &&
	grep -q "in .s3://$BUCKET." err
'

test_expect_success 'quilt config catalog.example.com: the URL needs a scheme (exit 64), with the command to run' '
	test_must_fail --exit=64 quilt config catalog.example.com 2>err &&
	grep -q "^error: invalid catalog URL .catalog.example.com.: it needs a scheme (http or https)$" err &&
	grep -q "^hint: quilt config https://catalog.example.com$" err &&
	test_must_fail --exit=64 quilt config catalog.example.com/path value 2>err &&
	grep -q "needs a scheme" err &&
	test_must_fail --exit=64 quilt config no_such_key 2>err && grep -q "^error: unknown configuration key" err
'

test_done
