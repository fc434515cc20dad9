# Local S3 endpoints for tests: moto_server from the project venv on 127.0.0.1. Source this file, then:
#
#   moto_start_all LOGDIR   start both servers and export the variables below
#   moto_stop_all           stop every server this shell started (safe to call twice; use it in an EXIT trap)
#
# Exports after moto_start_all:
#   QUILT_TEST_S3_ENDPOINT=http://127.0.0.1:PORT   the main server (signatures not checked)
#   AWS_ENDPOINT_URL (same), AWS_ACCESS_KEY_ID=test, AWS_SECRET_ACCESS_KEY=test, AWS_DEFAULT_REGION=us-east-1,
#   AWS_EC2_METADATA_DISABLED=true
#   QUILT_TEST_S3_AUTH_ENDPOINT=http://127.0.0.1:PORT2   a second server that checks signatures (moto_prepare_auth:
#                                                        an IAM user with s3:*, its access key and a bucket are
#                                                        created while it is open, then POST /moto-api/reset-auth)
#   QUILT_TEST_S3_AUTH_KEY_ID, QUILT_TEST_S3_AUTH_SECRET  that user's access key (only valid on the auth server)
#   QUILT_TEST_S3_AUTH_BUCKET                             a bucket on the auth server (versioned, empty)
#   QUILT_TEST_S3_AUTH_ROLE_ARN                           a role with s3:* that user may assume (STS AssumeRole on
#                                                        the auth server gives temporary keys it accepts), as a
#                                                        Quilt catalog's role is
#   If preparing the auth server fails, the QUILT_TEST_S3_AUTH_* variables are not exported (its tests skip).
# Needs MOTO_VENV (default <repo>/.venv) with moto[server] installed (scripts/bootstrap).

_moto_repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
: "${MOTO_VENV:=$_moto_repo/.venv}"
_moto_pids=()

# Prints a TCP port that is free on 127.0.0.1 right now.
moto_free_port() {
    "$MOTO_VENV/bin/python" -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Exit 0 once http://127.0.0.1:PORT answers any HTTP request, 1 after about TIMEOUT seconds.
moto_wait() {
    local port=$1 timeout=${2:-30} pid=${3:-}
    "$MOTO_VENV/bin/python" - "$port" "$timeout" "$pid" <<'PY'
import http.client, os, sys, time
port, timeout, pid = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
deadline = time.monotonic() + timeout
while time.monotonic() < deadline:
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        c.request("GET", "/moto-api/data.json")
        c.getresponse().read()
        sys.exit(0)
    except OSError:
        if pid:
            try:
                os.kill(int(pid), 0)
            except OSError:
                sys.exit(1)  # the server died
        time.sleep(0.1)
sys.exit(1)
PY
}

# moto_start NAME LOGFILE: starts a server and sets MOTO_PORT to its port. Retries on a port race.
# (Not for $(…): the server must be a child of this shell so that moto_stop_all can stop it.)
moto_start() {
    local name=$1 log=$2 port pid attempt
    [ -x "$MOTO_VENV/bin/moto_server" ] || { echo "error: moto_server not found in '$MOTO_VENV'" >&2
        echo "hint: run scripts/bootstrap" >&2; return 1; }
    for attempt in 1 2 3; do
        port=$(moto_free_port) || return 1
        # setsid: its own process group, so stopping it cannot touch anything else.
        setsid "$MOTO_VENV/bin/moto_server" -H 127.0.0.1 -p "$port" >>"$log" 2>&1 </dev/null &
        pid=$!
        if moto_wait "$port" 30 "$pid"; then
            _moto_pids+=("$pid")
            MOTO_PORT=$port
            return 0
        fi
        kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
        echo "moto ($name): attempt $attempt on port $port failed" >>"$log"
    done
    echo "error: moto_server ($name) did not start; see '$log'" >&2
    return 1
}

# moto_prepare_auth PORT: on a fresh server, creates an IAM user allowed s3:*, an access key, a bucket and a role
# the user may assume (allowed s3:* too), then switches signature checking on (one-way for that server). Prints
# `KEY_ID SECRET BUCKET ROLE_ARN` on success.
moto_prepare_auth() {
    "$MOTO_VENV/bin/python" - "$1" <<'PY'
import json, sys, urllib.request
import boto3
endpoint = f"http://127.0.0.1:{sys.argv[1]}"
open_creds = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test",
                  aws_secret_access_key="test")
iam = boto3.client("iam", **open_creds)
user = iam.create_user(UserName="quilt-test")["User"]
doc = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
arn = iam.create_policy(PolicyName="quilt-test-s3-all", PolicyDocument=json.dumps(doc))["Policy"]["Arn"]
iam.attach_user_policy(UserName="quilt-test", PolicyArn=arn)
# The role a stub Quilt catalog hands out temporary credentials of (scripts/stub_catalog.py).
trust = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": user["Arn"]}, "Action": "sts:AssumeRole"}]}
role = iam.create_role(RoleName="quilt-catalog", AssumeRolePolicyDocument=json.dumps(trust))["Role"]
iam.attach_role_policy(RoleName="quilt-catalog", PolicyArn=arn)
iam.put_user_policy(UserName="quilt-test", PolicyName="assume-quilt-catalog", PolicyDocument=json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role["Arn"]}]}))
key = iam.create_access_key(UserName="quilt-test")["AccessKey"]
bucket = "quilt-auth-test"
s3 = boto3.client("s3", **open_creds)
s3.create_bucket(Bucket=bucket)
s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
# text/plain: moto reads a form-encoded body as empty and fails.
req = urllib.request.Request(endpoint + "/moto-api/reset-auth", data=b"0", method="POST",
                             headers={"Content-Type": "text/plain"})
urllib.request.urlopen(req, timeout=10).read()
# From now on signatures are checked: the new key must work, a wrong secret must not.
good = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=key["AccessKeyId"],
                    aws_secret_access_key=key["SecretAccessKey"])
good.list_objects_v2(Bucket=bucket)
bad = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=key["AccessKeyId"],
                   aws_secret_access_key=key["SecretAccessKey"] + "x")
try:
    bad.list_objects_v2(Bucket=bucket)
    sys.exit("moto_prepare_auth: a wrong secret was accepted; auth is not on")
except bad.exceptions.ClientError:
    pass
print(key["AccessKeyId"], key["SecretAccessKey"], bucket, role["Arn"])
PY
}

moto_start_all() {
    local logdir=${1:-.} port auth_port
    mkdir -p "$logdir"
    moto_start main "$logdir/moto-main.log" || return 1
    port=$MOTO_PORT
    moto_start auth "$logdir/moto-auth.log" || { moto_stop_all; return 1; }
    auth_port=$MOTO_PORT
    export QUILT_TEST_S3_ENDPOINT="http://127.0.0.1:$port"
    export QUILT_TEST_S3_AUTH_ENDPOINT="http://127.0.0.1:$auth_port"
    export AWS_ENDPOINT_URL="$QUILT_TEST_S3_ENDPOINT"
    export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1
    export AWS_EC2_METADATA_DISABLED=true
    unset AWS_SESSION_TOKEN AWS_PROFILE AWS_ENDPOINT_URL_S3 AWS_REGION
    unset QUILT_TEST_S3_AUTH_KEY_ID QUILT_TEST_S3_AUTH_SECRET QUILT_TEST_S3_AUTH_BUCKET QUILT_TEST_S3_AUTH_ROLE_ARN
    local prepared
    if prepared=$(moto_prepare_auth "$auth_port" 2>>"$logdir/moto-auth.log"); then
        read -r QUILT_TEST_S3_AUTH_KEY_ID QUILT_TEST_S3_AUTH_SECRET QUILT_TEST_S3_AUTH_BUCKET \
            QUILT_TEST_S3_AUTH_ROLE_ARN <<<"$prepared"
        export QUILT_TEST_S3_AUTH_KEY_ID QUILT_TEST_S3_AUTH_SECRET QUILT_TEST_S3_AUTH_BUCKET QUILT_TEST_S3_AUTH_ROLE_ARN
    else
        echo "warning: could not prepare the auth-checking moto; see '$logdir/moto-auth.log'" >&2
    fi
}

moto_stop_all() {
    local pid
    for pid in "${_moto_pids[@]}"; do
        kill "$pid" 2>/dev/null || continue
        # Give it a moment to exit, then make sure.
        for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    _moto_pids=()
}
