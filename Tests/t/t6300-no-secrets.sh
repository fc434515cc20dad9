#!/usr/bin/env bash
test_description='no secret in any output: the secret key, the session token and SigV4 signature parts never appear
on stdout or stderr, for successful commands and for failures (403 from a proxy, a wrong secret against a server
that checks signatures)'
. "$(dirname "$0")/lib.sh"

BUCKET=secrets-registry-$$
SECRET="S3CR3T-DO-NOT-LEAK-$$-wJalrXUtnFEMIK7MDENGbPxRfiCY"
TOKEN="T0K3N-DO-NOT-LEAK-$$-FwoGZXIvYXdzEJr"
VENV_BIN=$(dirname "$QUILT_TEST_PYTHON")
AUTH_PID= PROXY_PID=
cleanup() {
    [ -n "$PROXY_PID" ] && { kill "$PROXY_PID" 2>/dev/null; wait "$PROXY_PID" 2>/dev/null; }
    [ -n "$AUTH_PID" ] && { kill -9 "$AUTH_PID" 2>/dev/null; wait "$AUTH_PID" 2>/dev/null; }
    PROXY_PID= AUTH_PID=
}
trap cleanup EXIT

: >all.out
# run CMD...: runs CMD with the distinctive credentials, appending its stdout and stderr to all.out; returns its
# exit status.
run() {
    local rc
    AWS_SECRET_ACCESS_KEY="$SECRET" AWS_SESSION_TOKEN="${NO_TOKEN-$TOKEN}" timeout 120 "$@" >cmd.out 2>cmd.err
    rc=$?
    { echo "### $* (exit $rc)"; cat cmd.out cmd.err; } >>all.out
    return $rc
}

# no_leak FILE: no secret, token, or signature part in FILE.
no_leak() {
    if grep -n -F -e "$SECRET" -e "$TOKEN" -e "${SECRET:0:20}" -e "${TOKEN:0:12}" "$1" ||
       grep -n -i -e 'Signature=' -e 'Credential=' -e 'X-Amz-Security-Token' -e 'Authorization:' "$1"; then
        echo "secret material found in the output above"; return 1
    fi
}

test_expect_success S3 'setup: bucket and data' '
    s3_make_bucket "$BUCKET" --versioned &&
    make_file data/a.txt 100 && make_file data/sub/b.bin 5000 &&
    make_file data/big.bin $(( 8 * 1048576 + 5 ))
'

test_expect_success S3 'push, list, log, show, install, upload-blob, fetch-blob print no secret' '
    run quilt push ns/sec data --registry "s3://$BUCKET" --message m &&
    run quilt push ns/sec data --registry "s3://$BUCKET" --json --force &&
    run quilt list --registry "s3://$BUCKET" &&
    run quilt log ns/sec --registry "s3://$BUCKET" &&
    run quilt show ns/sec --registry "s3://$BUCKET" --json &&
    run quilt install ns/sec --registry "s3://$BUCKET" --dest inst &&
    run quilt-upload-blob data/a.txt "s3://$BUCKET/blobs/a.txt" &&
    quilt-cat-manifest --registry "s3://$BUCKET" ns/sec | tail -n +2 >entries &&
    AWS_SECRET_ACCESS_KEY="$SECRET" AWS_SESSION_TOKEN="$TOKEN" quilt-fetch-blob --dest fetched <entries >fetch.out 2>fetch.err &&
    cat fetch.out fetch.err >>all.out &&
    test_cmp data/a.txt fetched/a.txt &&
    no_leak all.out
'

test_expect_success S3 '--verbose shows each request and still no secret' '
    : >all.out &&
    run quilt push ns/sec data --registry "s3://$BUCKET" --message v --force --verbose &&
    grep -q "^verbose: S3 PutObject s3://$BUCKET/" cmd.err &&
    run quilt log ns/sec --registry "s3://$BUCKET" -v && grep -q "^verbose: S3 ListObjectsV2" cmd.err &&
    run quilt install ns/sec --registry "s3://$BUCKET" --dest vinst -v && grep -q "^verbose: S3 GetObject" cmd.err &&
    test_must_fail run quilt list --registry "s3://no-such-bucket-$$" -v &&
    no_leak all.out
'

test_expect_success S3 'failures print no secret: missing package, missing bucket, refused connection' '
    : >all.out &&
    test_must_fail run quilt log ns/none --registry "s3://$BUCKET" &&
    test_must_fail run quilt install ns/sec --registry "s3://no-such-bucket-$$" --dest x &&
    test_must_fail run quilt push ns/sec data --registry "s3://no-such-bucket-$$" &&
    port=$("$QUILT_TEST_PYTHON" -c "import socket; s=socket.socket(); s.bind((\"127.0.0.1\",0)); print(s.getsockname()[1])") &&
    AWS_ENDPOINT_URL=http://127.0.0.1:$port test_must_fail run quilt list --registry "s3://$BUCKET" &&
    cat all.out && no_leak all.out
'

test_expect_success S3 '403 AccessDenied from a proxy: exit 1, a hint, no secret' '
    : >all.out && rm -f proxy.port &&
    { setsid "$QUILT_TEST_PYTHON" "$REPO/scripts/faultproxy.py" --upstream "$QUILT_TEST_S3_ENDPOINT" \
        --port-file proxy.port --schedule 403:1 --lifetime 60 </dev/null 2>proxy.err & PROXY_PID=$!; } &&
    for _ in $(seq 100); do [ -s proxy.port ] && break; sleep 0.05; done &&
    p="http://127.0.0.1:$(cat proxy.port)" &&
    AWS_ENDPOINT_URL=$p test_must_fail --exit=1 run quilt push ns/sec data --registry "s3://$BUCKET" --force &&
    grep -q "^hint: " cmd.err &&
    AWS_ENDPOINT_URL=$p test_must_fail --exit=1 run quilt install ns/sec --registry "s3://$BUCKET" --dest y &&
    AWS_ENDPOINT_URL=$p test_must_fail run quilt-upload-blob data/a.txt "s3://$BUCKET/blobs/x" &&
    cat all.out && no_leak all.out
'

test_expect_success S3 'a wrong secret against a private moto that checks signatures: 403, no secret' '
    : >all.out &&
    aport=$("$QUILT_TEST_PYTHON" -c "import socket; s=socket.socket(); s.bind((\"127.0.0.1\",0)); print(s.getsockname()[1])") &&
    { setsid "$VENV_BIN/moto_server" -H 127.0.0.1 -p "$aport" >moto-auth.log 2>&1 </dev/null & AUTH_PID=$!; } &&
    "$QUILT_TEST_PYTHON" - "$aport" >key.env <<-\PY &&
	import http.client, sys, time, boto3
	port = int(sys.argv[1]); url = f"http://127.0.0.1:{port}"
	for _ in range(300):
	    try:
	        c = http.client.HTTPConnection("127.0.0.1", port, timeout=2); c.request("GET", "/moto-api/data.json")
	        c.getresponse().read(); break
	    except OSError:
	        time.sleep(0.1)
	iam = boto3.client("iam", endpoint_url=url, region_name="us-east-1")
	iam.create_user(UserName="robust")
	key = iam.create_access_key(UserName="robust")["AccessKey"]
	s3 = boto3.client("s3", endpoint_url=url, aws_access_key_id=key["AccessKeyId"],
	                  aws_secret_access_key=key["SecretAccessKey"])
	s3.create_bucket(Bucket="authbucket")
	c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
	c.request("POST", "/moto-api/reset-auth", body=b"0"); c.getresponse().read()
	print(key["AccessKeyId"])
	PY
    kid=$(cat key.env) &&
    AWS_ENDPOINT_URL=http://127.0.0.1:$aport AWS_ACCESS_KEY_ID=$kid \
        test_must_fail --exit=1 run quilt push ns/sec data --registry s3://authbucket &&
    grep -q "^hint: " cmd.err &&
    AWS_ENDPOINT_URL=http://127.0.0.1:$aport AWS_ACCESS_KEY_ID=$kid \
        test_must_fail --exit=1 run quilt list --registry s3://authbucket &&
    AWS_ENDPOINT_URL=http://127.0.0.1:$aport AWS_ACCESS_KEY_ID=$kid \
        test_must_fail run quilt-upload-blob data/a.txt s3://authbucket/x &&
    AWS_ENDPOINT_URL=http://127.0.0.1:$aport AWS_ACCESS_KEY_ID=$kid NO_TOKEN= \
        test_must_fail --exit=1 run quilt install ns/sec --registry s3://authbucket --dest z &&
    grep -q SignatureDoesNotMatch cmd.err &&
    cat all.out && no_leak all.out &&
    grep -q -e SignatureDoesNotMatch -e "403" -e denied all.out
'

test_expect_success 'a failing credential_process: its exit status shown, never what it printed' '
    mkdir -p proc && printf "#!/bin/sh\necho \"{\\\"AccessKeyId\\\": \\\"x\\\", \\\"SecretAccessKey\\\": \\\"$SECRET\\\"}\"\necho \"error: key $SECRET\" >&2\nexit 3\n" >proc/helper &&
    chmod +x proc/helper && grep -q "$SECRET" proc/helper &&
    printf "[profile proc]\ncredential_process = %s/proc/helper\n" "$TRASH" >proc/config &&
    port=$("$QUILT_TEST_PYTHON" -c "import socket; s=socket.socket(); s.bind((\"127.0.0.1\",0)); print(s.getsockname()[1])") &&
    : >all.out &&
    env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN AWS_CONFIG_FILE="$TRASH/proc/config" \
        AWS_PROFILE=proc AWS_REGION=us-east-1 AWS_ENDPOINT_URL=http://127.0.0.1:$port AWS_EC2_METADATA_DISABLED=true \
        quilt list --registry s3://some-bucket >cmd.out 2>cmd.err
    test $? = 1 && cat cmd.out cmd.err >>all.out && cat all.out &&
    grep -q "^error: .*credential_process.*status 3" cmd.err && test_line_count = 1 cmd.err &&
    no_leak all.out
'

test_expect_success S3 'QUILT_TRACE with QUILT_API_KEY: neither the key nor the credentials it gets appear in traces' '
	key="qk_$$-TRACE-DO-NOT-LEAK" &&
	trap "cleanup; stub_catalog_stop" EXIT &&
	stub_catalog_start --api-key "$key" &&
	(export XDG_DATA_HOME="$TRASH/keyhome"; mkdir -p "$XDG_DATA_HOME" &&
	 quilt config "$STUB_URL" >/dev/null &&
	 QUILT_API_KEY=$key QUILT_TRACE=1 quilt push ns/key data --registry "s3://$BUCKET" --force -v >trace.out 2>&1 &&
	 QUILT_API_KEY=$key QUILT_TRACE="$TRASH/trace.file" quilt whoami --registry "s3://$BUCKET" --json >>trace.out 2>&1) &&
	cat trace.file >>trace.out &&
	grep -q "trace: credentials: QUILT_API_KEY" trace.out && grep -q "verbose: S3 PutObject" trace.out &&
	grep "/api/auth/get_credentials" stub.log | grep -q "Bearer <api_key>" &&
	no_leak trace.out && ! grep -n -F -e "$key" trace.out && no_secret_in trace.out &&
	stub_catalog_stop
'

test_expect_success S3 'stop servers' 'cleanup'

test_done
