#!/usr/bin/env bash
test_description='push and install through a fault-injecting proxy (5xx, SlowDown, dropped and closed connections,
stalls): transient faults are retried and the result verifies; permanent faults fail with exit 1 and one error line'
. "$(dirname "$0")/lib.sh"

BUCKET=faults-registry-$$
trap proxy_stop EXIT

# through_proxy CMD...: CMD with the proxy as endpoint, at most 120 s.
# One transfer at a time, so the fault schedule meets requests in a fixed order (with ten in flight, one request's
# retries could land on several fault slots in a row, and the test would measure luck).
through_proxy() { AWS_ENDPOINT_URL="$PROXY_URL" QUILT_TRANSFER_MAX_CONCURRENCY=1 timeout 120 "$@"; }

faults_injected() { grep -cv -e ' -> ' proxy.log || true; }

# one_error_line FILE: stderr is one `error:` line, optionally followed by `hint:` lines; no crash output.
one_error_line() {
    test "$(grep -c '^error: ' "$1")" -eq 1 &&
    test "$(grep -vc -e '^error: ' -e '^hint: ' "$1")" -eq 0 || { echo "stderr is not one error line:"; cat "$1"; return 1; }
}

# transient KIND RULES: push and install through a proxy with RULES; both succeed and verify.
transient() {
    local kind=$1 rules=$2 rc
    : >proxy.log
    proxy_start "$rules" || return 1
    through_proxy quilt push "ns/$kind" data --registry "s3://$BUCKET" --message "$kind" >push.out 2>push.err
    rc=$?
    proxy_stop
    echo "push through '$rules': exit $rc, $(faults_injected) faults injected in $(wc -l <proxy.log) requests"
    [ $rc -eq 0 ] || { cat push.err; grep -v ' -> ' proxy.log | head; return 1; }
    test "$(faults_injected)" -gt 0 || { echo "no fault was injected"; return 1; }
    test "$(quilt-rev-parse --registry "s3://$BUCKET" "ns/$kind")" = "$(cat push.out)" &&
    quilt-cat-manifest --verify --registry "s3://$BUCKET" "ns/$kind" >/dev/null &&
    quilt verify "ns/$kind" --registry "s3://$BUCKET" --dir data || return 1

    : >proxy.log
    proxy_start "$rules" || return 1
    rm -rf "inst-$kind"
    through_proxy quilt install "ns/$kind" --registry "s3://$BUCKET" --dest "inst-$kind" >/dev/null 2>install.err
    rc=$?
    proxy_stop
    echo "install through '$rules': exit $rc, $(faults_injected) faults injected in $(wc -l <proxy.log) requests"
    [ $rc -eq 0 ] || { cat install.err; grep -v ' -> ' proxy.log | head; return 1; }
    quilt verify "ns/$kind" --registry "s3://$BUCKET" --dir "inst-$kind"
}

# permanent RULES CMD...: CMD through a proxy that applies RULES to every request fails with exit 1, one error
# line, in bounded time.
permanent() {
    local rules=$1 rc start; shift
    : >proxy.log
    proxy_start "$rules" || return 1
    start=$(date +%s)
    through_proxy "$@" >perm.out 2>perm.err
    rc=$?
    proxy_stop
    echo "'$*' through '$rules': exit $rc after $(( $(date +%s) - start )) s"
    cat perm.err
    test $rc -eq 1 && one_error_line perm.err
}

test_expect_success S3 'setup: versioned bucket, a few small files and a 9 MiB file' '
    s3_make_bucket "$BUCKET" --versioned &&
    make_file data/a.txt 300 &&
    make_file data/sub/b.json 2000 &&
    make_file data/sub/deep/c.bin 70000 &&
    make_file data/big.bin $(( 9 * 1048576 + 777 )) &&
    quilt push ns/base data --registry "s3://$BUCKET" >/dev/null
'

test_expect_success S3 'every 3rd request answers 500 InternalError' 'transient e500 500:3'
test_expect_success S3 'every 3rd request answers 503 ServiceUnavailable' 'transient e503 503:3:1'
test_expect_success S3 'every 3rd request answers 503 SlowDown' 'transient slowdown slowdown:3:2'
test_expect_success S3 'every 3rd request answers 429 SlowDown' 'transient e429 429:3'
test_expect_success S3 'every 3rd connection is closed before the answer' 'transient close close:3:1'
test_expect_success S3 'every 3rd answer is cut off mid-response' 'transient drop drop:3'
test_expect_success S3 'every 4th request stalls 2 s, then is answered' 'transient stall stall:4:0:2'
test_expect_success S3 'a mix of every fault kind' 'transient mixed "500:7:1,close:7:3,drop:7:5,429:11:2,stall:13:4:1"'

test_expect_success S3 'a 500 on every request: push fails with exit 1 and one error line' '
    permanent 500:1 quilt push ns/perm data --registry "s3://$BUCKET"
'
test_expect_success S3 'every connection closed: push fails with exit 1 and one error line' '
    permanent close:1 quilt push ns/perm data --registry "s3://$BUCKET"
'
test_expect_success S3 'every answer cut off: install fails with exit 1 and one error line' '
    permanent drop:1 quilt install ns/base --registry "s3://$BUCKET" --dest perm-inst
'
test_expect_success S3 'SlowDown on every request: install fails with exit 1 and one error line' '
    permanent slowdown:1 quilt install ns/base --registry "s3://$BUCKET" --dest perm-inst
'
test_expect_success S3 'nothing was published by the failed pushes' '
    test_must_fail quilt-rev-parse --registry "s3://$BUCKET" ns/perm
'

# libcurl is loaded at the first request (Sources/CCurlShims): a library that cannot be loaded is one error line and
# exit 1 for what needs the network, and nothing at all for what does not. The dynamic loader looks in
# LD_LIBRARY_PATH first, so an empty libcurl.so.4 there stands for a broken one.
test_expect_success 'a libcurl that cannot be loaded: S3 fails with one error line, local commands do not notice' '
    mkdir badlib && : >badlib/libcurl.so.4 &&
    mkdir local && echo x >local/a.txt &&
    LD_LIBRARY_PATH=$TRASH/badlib quilt build t/local local --registry localreg >top &&
    LD_LIBRARY_PATH=$TRASH/badlib quilt-rev-parse t/local --registry localreg >rev && test_cmp top rev &&
    test_must_fail --exit=1 env LD_LIBRARY_PATH=$TRASH/badlib AWS_ENDPOINT_URL=http://127.0.0.1:9 AWS_ACCESS_KEY_ID=k \
        AWS_SECRET_ACCESS_KEY=s AWS_DEFAULT_REGION=us-east-1 quilt-rev-parse --registry s3://no-bucket t/local 2>err &&
    cat err &&
    one_error_line err && grep -q "cannot load libcurl: .*libcurl.so.4" err
'

test_done
