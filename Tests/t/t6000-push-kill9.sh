#!/usr/bin/env bash
test_description='kill -9 of quilt push (and of the S3 server) and of quilt install at many points: the registry
stays consistent (pointers name stored manifests, manifests name stored object versions), no partial file is
installed, and a rerun completes and verifies'
. "$(dirname "$0")/lib.sh"

# A private moto for this file: it is killed and restarted, so it must not be the shared one.
VENV_BIN=$(dirname "$QUILT_TEST_PYTHON")
BUCKET=kill9-registry
MOTO_PID=
MOTO_PORT=

moto_up() {
    [ -n "$MOTO_PORT" ] || MOTO_PORT=$("$QUILT_TEST_PYTHON" -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
    setsid "$VENV_BIN/moto_server" -H 127.0.0.1 -p "$MOTO_PORT" >>"$TRASH/moto.log" 2>&1 </dev/null &
    MOTO_PID=$!
    export QUILT_TEST_S3_ENDPOINT="http://127.0.0.1:$MOTO_PORT" AWS_ENDPOINT_URL="http://127.0.0.1:$MOTO_PORT"
    "$QUILT_TEST_PYTHON" - "$MOTO_PORT" <<'PY'
import http.client, sys, time
deadline = time.monotonic() + 30
while time.monotonic() < deadline:
    try:
        c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=2)
        c.request("GET", "/moto-api/data.json"); c.getresponse().read(); sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit(1)
PY
}
moto_down() {
    [ -n "$MOTO_PID" ] || return 0
    kill -9 "$MOTO_PID" 2>/dev/null
    wait "$MOTO_PID" 2>/dev/null
    MOTO_PID=
}
trap 'moto_down' EXIT

ms_now() { echo $(( $(date +%s%N) / 1000000 )); }

# check_registry: every pointer names a stored manifest, every stored manifest names object versions that exist.
cat >"$TRASH/check_registry.py" <<'PY'
import json, os, sys, urllib.parse, boto3
bucket = sys.argv[1]
s3 = boto3.client("s3", endpoint_url=os.environ["QUILT_TEST_S3_ENDPOINT"])
def keys(prefix):
    out = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        out += [o["Key"] for o in page.get("Contents", [])]
    return out
problems = []
manifests = set(k.rsplit("/", 1)[1] for k in keys(".quilt/packages/"))
for k in keys(".quilt/named_packages/"):
    h = s3.get_object(Bucket=bucket, Key=k)["Body"].read().decode()
    if len(h) != 64 or h not in manifests:
        problems.append(f"pointer {k} names {h!r}, which is not a stored manifest")
for h in manifests:
    lines = s3.get_object(Bucket=bucket, Key=".quilt/packages/" + h)["Body"].read().decode().splitlines()
    for line in lines[1:]:
        e = json.loads(line)
        for pk in e.get("physical_keys") or []:
            u = urllib.parse.urlparse(pk)
            if u.scheme != "s3":
                problems.append(f"manifest {h}: non-S3 physical key {pk}")
                continue
            args = dict(Bucket=u.netloc, Key=urllib.parse.unquote(u.path[1:]))
            vid = urllib.parse.parse_qs(u.query).get("versionId")
            if vid: args["VersionId"] = vid[0]
            try:
                head = s3.head_object(**args)
                if head["ContentLength"] != e["size"]:
                    problems.append(f"manifest {h}: {pk} has {head['ContentLength']} bytes, entry says {e['size']}")
            except Exception as exc:
                problems.append(f"manifest {h}: {pk} missing ({exc})")
for p in problems: print(p)
print(f"{len(manifests)} manifests checked")
sys.exit(1 if problems else 0)
PY
check_registry() { "$QUILT_TEST_PYTHON" "$TRASH/check_registry.py" "$BUCKET"; }

make_bucket() {
    "$QUILT_TEST_PYTHON" - "$BUCKET" <<'PY'
import os, sys, boto3
s3 = boto3.client("s3", endpoint_url=os.environ["QUILT_TEST_S3_ENDPOINT"])
s3.create_bucket(Bucket=sys.argv[1])
s3.put_bucket_versioning(Bucket=sys.argv[1], VersioningConfiguration={"Status": "Enabled"})
PY
}

# new_content I: a few small files and one 9-16 MiB file; the big file changes every third round.
new_content() {
    make_file data/a.txt $((100 + $1)) "a$1" &&
    make_file data/sub/b.bin 4000 "b$1" &&
    make_file data/sub/c.csv 10 "c$1" &&
    make_file data/big.bin $(( 9 * 1048576 + 12345 )) "big$(( $1 / 3 ))"
}

# rerun_push: a push after an interrupted one. --from the remote latest (if any), so no --force is needed
# whether or not the interrupted push published.
rerun_push() {
    local from=()
    quilt-rev-parse --registry "s3://$BUCKET" ns/pkg >/dev/null 2>&1 && from=(--from ns/pkg)
    quilt push ns/pkg data "${from[@]}" --registry "s3://$BUCKET" --message "rerun" >rerun.out 2>rerun.err || {
        echo "rerun push failed ($?):"; cat rerun.err; return 1; }
    test "$(quilt-rev-parse --registry "s3://$BUCKET" ns/pkg)" = "$(cat rerun.out)" &&
    quilt-cat-manifest --verify --registry "s3://$BUCKET" ns/pkg >/dev/null &&
    quilt verify ns/pkg --registry "s3://$BUCKET" --dir data
}

test_expect_success S3 'private moto server and a versioned bucket' '
    moto_up && make_bucket &&
    new_content 0 &&
    quilt push ns/pkg data --registry "s3://$BUCKET" --message first >first.out &&
    check_registry
'

# (The loops are functions: a `return` in a test body would leave test_expect_success itself.)
push_kill_loop() {
    local t0 full killed=0 i delay pid rc
    new_content 1 && t0=$(ms_now) &&
    quilt push ns/pkg data --from ns/pkg --registry "s3://$BUCKET" --message timing >/dev/null || return 1
    full=$(( $(ms_now) - t0 ))
    echo "full push: ${full} ms"
    for i in $(seq 0 21); do
        new_content $((i + 2)) || return 1
        delay=$(( i * (full + full / 10) / 21 ))
        quilt push ns/pkg data --from ns/pkg --registry "s3://$BUCKET" --message "round $i" >/dev/null 2>kill.err &
        pid=$!
        sleep "$(printf "%d.%03d" $((delay / 1000)) $((delay % 1000)))"
        kill -9 $pid 2>/dev/null
        wait $pid 2>/dev/null; rc=$?
        echo "round $i: delay ${delay} ms, exit $rc"
        case $rc in 137) killed=$((killed + 1)) ;; 0) ;; *) cat kill.err; return 1 ;; esac
        check_registry || { echo "registry inconsistent after round $i"; return 1; }
        rerun_push || { echo "rerun failed after round $i"; return 1; }
    done
    echo "killed mid-run: $killed of 22"
    test $killed -ge 8 && check_registry
}

test_expect_success S3 'kill -9 of push at 22 points spread over its run; each rerun completes and verifies' '
    push_kill_loop
'

test_expect_success S3 'kill -9 of the S3 server mid-push; a restarted server (empty) takes a complete rerun' '
    new_content 100 &&
    quilt push ns/pkg data --from ns/pkg --registry "s3://$BUCKET" --message "server dies" >/dev/null 2>srv.err &
    pid=$! &&
    sleep 0.15 && moto_down &&
    s=$(ms_now) && { wait $pid; rc=$?; true; } &&
    echo "push exit $rc after the server died ($(( $(ms_now) - s )) ms)" && cat srv.err &&
    { test $rc -eq 0 || test $rc -eq 1; } &&
    test $(wc -l <srv.err) -le 2 &&
    moto_up && make_bucket &&
    rerun_push && check_registry
'

install_kill_loop() {
    local t0 full killed=0 stray=0 i delay pid rc left f leftover
    rm -rf inst && t0=$(ms_now) &&
    quilt install ns/pkg --registry "s3://$BUCKET" --dest inst >/dev/null || return 1
    full=$(( $(ms_now) - t0 ))
    echo "full install: ${full} ms"
    for i in $(seq 0 19); do
        rm -rf inst
        delay=$(( i * (full + full / 10) / 19 ))
        quilt install ns/pkg --registry "s3://$BUCKET" --dest inst >/dev/null 2>kill.err &
        pid=$!
        sleep "$(printf "%d.%03d" $((delay / 1000)) $((delay % 1000)))"
        kill -9 $pid 2>/dev/null
        wait $pid 2>/dev/null; rc=$?
        echo "round $i: delay ${delay} ms, exit $rc"
        case $rc in 137) killed=$((killed + 1)) ;; 0) ;; *) cat kill.err; return 1 ;; esac
        mkdir -p inst
        left=$(cd inst && find . -type f | sed "s|^\./||" | sort)
        for f in $left; do
            case "$(basename "$f")" in
            .*.tmp-*) stray=$((stray + 1)) ;;
            *) cmp -s "inst/$f" "data/$f" || { echo "round $i: partial or wrong file $f"; return 1; } ;;
            esac
        done
        quilt install ns/pkg --registry "s3://$BUCKET" --dest inst >/dev/null 2>rerun.err ||
            { echo "round $i: rerun install failed"; cat rerun.err; return 1; }
        # Temporary files a kill left behind are not package files: verify must not count them as extra.
        quilt verify ns/pkg --registry "s3://$BUCKET" --dir inst --json >verify.json ||
            { echo "round $i: verify failed after rerun"; cat verify.json; return 1; }
        grep -q '"extra" *: *\[\]' verify.json || { echo "round $i: extra files"; cat verify.json; return 1; }
        quilt-cat-manifest --verify ns/pkg >/dev/null || { echo "round $i: local registry latest broken"; return 1; }
    done
    leftover=$(cd inst && find . -name ".*.tmp-*" | wc -l)
    echo "killed mid-run: $killed of 20; temporary files seen after a kill: $stray; still there after the rerun: $leftover"
    test $killed -ge 8
}

test_expect_success S3 'kill -9 of install at 20 points: no partial file, rerun completes and verifies' '
    install_kill_loop
'

test_expect_success S3 'stop the private server' 'moto_down'

test_done
