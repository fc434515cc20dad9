# Shell test library in the style of git's t/test-lib.sh. A test file is:
#
#   #!/usr/bin/env bash
#   test_description='what this file tests'
#   . "$(dirname "$0")/lib.sh"
#   test_expect_success 'title' 'commands && more commands'
#   test_expect_success S3 'title' 'commands needing the S3 endpoint'
#   test_done
#
# Each file runs in its own trash directory (the working directory of every test) with HOME, XDG_DATA_HOME,
# XDG_CACHE_HOME and XDG_CONFIG_HOME inside it, so the default local registry is $TRASH/.local/share/Quilt/packages.
# The built programs ($QUILT_BUILD_DIR, default $REPO/.build/debug) come first on PATH.
#
# Options: -v/--verbose shows every test's output; -i/--immediate stops at the first failure;
# -d/--debug keeps the trash directory. Environment: QUILT_TEST_VERBOSE, QUILT_TEST_KEEP_TRASH,
# QUILT_TEST_TRASH_ROOT (where trash directories go, default $TMPDIR or /tmp).
#
# Variables for tests: REPO, TRASH, TEST_NAME, QUILT_BUILD_DIR, QUILT_TEST_PYTHON (the venv's python), and from
# scripts/test when an S3 endpoint runs: QUILT_TEST_S3_ENDPOINT, QUILT_TEST_S3_AUTH_ENDPOINT and AWS_* (test/test).
# Prerequisites: S3 (QUILT_TEST_S3_ENDPOINT set), QUILT3 (the venv has quilt3); test_set_prereq adds more.

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TEST_NAME=$(basename "$0" .sh)

test_verbose=${QUILT_TEST_VERBOSE:-false}
test_immediate=false
test_keep_trash=${QUILT_TEST_KEEP_TRASH:-false}
for arg in "$@"; do
    case "$arg" in
        -v|--verbose) test_verbose=true ;;
        -i|--immediate) test_immediate=true ;;
        -d|--debug) test_keep_trash=true ;;
        *) echo "error: unknown option '$arg'" >&2; exit 64 ;;
    esac
done
[ "$test_verbose" = 1 ] && test_verbose=true
[ "$test_keep_trash" = 1 ] && test_keep_trash=true

# --- environment -----------------------------------------------------------------------------------------
QUILT_BUILD_DIR=${QUILT_BUILD_DIR:-$REPO/.build/debug}
QUILT_BUILD_DIR=$(cd "$QUILT_BUILD_DIR" 2>/dev/null && pwd || echo "$QUILT_BUILD_DIR")
export QUILT_BUILD_DIR
if [ -x "$REPO/.venv/bin/python" ]; then QUILT_TEST_PYTHON=$REPO/.venv/bin/python; else QUILT_TEST_PYTHON=python3; fi
export QUILT_TEST_PYTHON
export PATH="$QUILT_BUILD_DIR:$PATH"

TRASH=$(mktemp -d "${QUILT_TEST_TRASH_ROOT:-${TMPDIR:-/tmp}}/trash.$TEST_NAME.XXXXXX") || {
    echo "error: cannot create trash directory" >&2; exit 1; }
export TRASH
export HOME="$TRASH"
export XDG_DATA_HOME="$TRASH/.local/share" XDG_CACHE_HOME="$TRASH/.cache" XDG_CONFIG_HOME="$TRASH/.config"
mkdir -p "$XDG_DATA_HOME" "$XDG_CACHE_HOME" "$XDG_CONFIG_HOME"
export QUILT_DISABLE_USAGE_METRICS=true QUILT_MINIMIZE_STDOUT=true QUILT_DISABLE_CACHE=true
export LC_ALL=C.UTF-8 LANG=C.UTF-8 TZ=UTC NO_COLOR=1
# AWS settings come only from the environment scripts/test sets up, never from the real home.
export AWS_CONFIG_FILE="$TRASH/.aws/config" AWS_SHARED_CREDENTIALS_FILE="$TRASH/.aws/credentials"
unset AWS_PROFILE QUILT_TRANSFER_MAX_CONCURRENCY QUILT_MANIFEST_MAX_RECORD_SIZE CDPATH
# No desktop: `quilt login` must never open a browser during tests.
unset DISPLAY WAYLAND_DISPLAY
cd "$TRASH" || exit 1

test_count=0 test_passed=0 test_failed=0 test_skipped=0
test_prereqs=" "
test_set_prereq() { test_prereqs="$test_prereqs$1 "; }
[ -n "${QUILT_TEST_S3_ENDPOINT:-}" ] && test_set_prereq S3
"$QUILT_TEST_PYTHON" -c 'import quilt3' >/dev/null 2>&1 <<<'' && test_set_prereq QUILT3

# Exit 0 if every prerequisite in the comma-separated list is set.
test_have_prereq() {
    local p IFS=,
    for p in $1; do case "$test_prereqs" in *" $p "*) ;; *) return 1 ;; esac; done
}

# --- running tests ---------------------------------------------------------------------------------------
# test_expect_success [PREREQS] 'title' 'commands': runs the commands in this shell (variables persist,
# the working directory is restored); the test passes if they exit 0. Chain commands with &&.
test_expect_success() {
    local prereq=
    if [ $# -eq 3 ]; then prereq=$1; shift; fi
    [ $# -eq 2 ] || { echo "error: bug in the test script: test_expect_success needs 2 or 3 arguments" >&2; exit 1; }
    test_count=$((test_count + 1))
    if [ -n "$prereq" ] && ! test_have_prereq "$prereq"; then
        test_skipped=$((test_skipped + 1))
        echo "ok $test_count # skip $1 (missing $prereq)"
        return 0
    fi
    local out="$TRASH/.test-output" rc dir=$PWD
    if $test_verbose; then
        echo "expecting success: $2"
        test_eval_ "$2" </dev/null
        rc=$?
    else
        test_eval_ "$2" </dev/null >"$out" 2>&1
        rc=$?
    fi
    cd "$dir" || exit 1
    if [ $rc -eq 0 ]; then
        test_passed=$((test_passed + 1))
        echo "ok $test_count - $1"
    else
        test_failed=$((test_failed + 1))
        echo "not ok $test_count - $1"
        sed 's/^/#\t/' <<<"$2"
        if ! $test_verbose && [ -s "$out" ]; then
            echo "# output:"
            tail -n 40 "$out" | sed 's/^/#\t/'
        fi
        if $test_immediate; then test_keep_trash=true; test_done; fi
    fi
    return 0
}

# Runs a test body in a function of its own, so that `return 1` in it (as in `for …; do … || return 1; done`)
# fails that test rather than returning from test_expect_success before the result is counted.
test_eval_() { eval "$1"; }

# test_done: prints the summary line `# passed N failed N` (scripts/test reads it) and exits 1 if any failed.
test_done() {
    [ $test_skipped -gt 0 ] && echo "# skipped $test_skipped"
    echo "# passed $test_passed failed $test_failed"
    cd / || true
    if [ $test_failed -eq 0 ] && [ "$test_keep_trash" != true ]; then
        rm -rf "$TRASH"
    else
        echo "# trash directory kept: $TRASH"
    fi
    [ $test_failed -eq 0 ] && exit 0
    exit 1
}

# --- assertions ------------------------------------------------------------------------------------------
# test_must_fail [--exit=N] CMD...: succeeds if CMD exits 1..125 (exactly N with --exit=N). Success, a signal,
# 126 (not executable) and 127 (not found) are failures: a crash is a bug, never an expected failure.
test_must_fail() {
    local want=
    case "${1:-}" in --exit=*) want=${1#--exit=}; shift ;; esac
    "$@"
    local rc=$?
    if [ $rc -eq 0 ]; then
        echo "test_must_fail: command succeeded: $*" >&2; return 1
    elif [ $rc -gt 128 ]; then
        echo "test_must_fail: killed by signal $((rc - 128)): $*" >&2; return 1
    elif [ $rc -gt 125 ]; then
        echo "test_must_fail: command not found or not executable ($rc): $*" >&2; return 1
    elif [ -n "$want" ] && [ "$rc" -ne "$want" ]; then
        echo "test_must_fail: exit $rc, expected $want: $*" >&2; return 1
    fi
    return 0
}

# test_cmp EXPECTED ACTUAL: the files are equal (a diff is shown if not).
test_cmp() { diff -u "$1" "$2"; }

# test_line_count OP N FILE, e.g. test_line_count = 3 out
test_line_count() {
    local n
    n=$(wc -l <"$3")
    test "$n" "$1" "$2" || { echo "test_line_count: $3 has $n lines, expected $1 $2" >&2; return 1; }
}

# --- helpers ---------------------------------------------------------------------------------------------
# make_file PATH SIZE [SEED]: writes SIZE bytes of deterministic pseudo-random data (the same SEED and SIZE give
# the same bytes; SEED defaults to PATH as given). SEED `zero` writes zero bytes. Creates parent directories.
make_file() {
    mkdir -p "$(dirname "$1")" &&
    "$QUILT_TEST_PYTHON" - "$1" "$2" "${3-$1}" <<'PY'
import random, sys
path, size, seed = sys.argv[1], int(sys.argv[2]), sys.argv[3]
with open(path, "wb") as f:
    if seed == "zero":
        f.truncate(size)
    else:
        f.write(random.Random(seed).randbytes(size))
PY
}

# make_tree DIR: a realistic small tree: 153 files, nested, with odd names (a space, é, + and %), an empty file and
# one of 9,000,000 bytes.
make_tree() {
    mkdir -p "$1/a/b" "$1/c" "$1/sp ace/é" &&
    for i in $(seq 1 120); do echo "row $i" >"$1/a/f$i.csv"; done &&
    for i in $(seq 1 30); do echo "$i" >"$1/a/b/g$i.txt"; done &&
    : >"$1/c/empty" && echo "plus" >"$1/sp ace/é/x+%.txt" && make_file "$1/c/big.bin" 9000000
}

# quilt3_py ARGS...: the venv's python with the environment quilt3 needs (telemetry off, no cache, quiet),
# e.g. quilt3_py -c 'import quilt3; print(quilt3.Package.browse("a/b").top_hash)'.
quilt3_py() {
    QUILT_DISABLE_USAGE_METRICS=true QUILT_MINIMIZE_STDOUT=true QUILT_DISABLE_CACHE=true \
        "$QUILT_TEST_PYTHON" "$@"
}

# quilt3_build_dir NAME DIR MESSAGE: prints the top hash of quilt3's build of DIR's files (set_dir(".", DIR)) as the
# package NAME with MESSAGE, into the scratch local registry $TRASH/q3reg.
quilt3_build_dir() {
    quilt3_py - "$@" "$TRASH/q3reg" <<'PY'
import sys, quilt3
p = quilt3.Package()
p.set_dir(".", sys.argv[2])
print(p.build(sys.argv[1], registry="file://" + sys.argv[4], message=sys.argv[3]))
PY
}

# quilt3_cli ARGS...: quilt3's own command line from the venv.
quilt3_cli() {
    QUILT_DISABLE_USAGE_METRICS=true QUILT_MINIMIZE_STDOUT=true QUILT_DISABLE_CACHE=true \
        "$REPO/.venv/bin/quilt3" "$@"
}

# s3_make_bucket NAME [--versioned]: creates a bucket on $QUILT_TEST_S3_ENDPOINT (needs prerequisite S3).
s3_make_bucket() {
    "$QUILT_TEST_PYTHON" - "$@" <<'PY'
import os, sys, boto3
s3 = boto3.client("s3", endpoint_url=os.environ["QUILT_TEST_S3_ENDPOINT"])
s3.create_bucket(Bucket=sys.argv[1])
if "--versioned" in sys.argv[2:]:
    s3.put_bucket_versioning(Bucket=sys.argv[1], VersioningConfiguration={"Status": "Enabled"})
PY
}

# on_tty CMD: runs CMD with a pseudo-terminal as stdin, stdout and stderr (util-linux script); the session's output,
# both streams, lands in tty.out. Input for prompts comes from tty.in.
on_tty() {
    : >>tty.in
    QUILT_MINIMIZE_STDOUT=false TERM=${TERM-xterm} script -qec "$*" /dev/null <tty.in >tty.out 2>&1
}

# kill9_when PID CONDITION: waits (up to 60 s, polling every 10 ms) until the shell command CONDITION succeeds, then
# kills PID with SIGKILL and reaps it; succeeds if it was killed, fails if it had ended by itself first.
kill9_when() {
    local pid=$1 condition=$2 i
    for i in $(seq 1 6000); do
        eval "$condition" && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.01
    done
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    test $? -eq 137
}

# local_registry: prints the default local registry directory (where quilt3 keeps packages).
local_registry() { echo "$XDG_DATA_HOME/Quilt/packages"; }

# stub_catalog_start [ARGS...]: starts scripts/stub_catalog.py (a Quilt catalog on a free 127.0.0.1 port, in its own
# process group) with ARGS; it logs requests (tokens replaced by labels) to $TRASH/stub.log and every secret it
# hands out or accepts to $TRASH/stub.secrets. Sets STUB_URL and STUB_PID. stub_catalog_stop stops it.
stub_catalog_start() {
    rm -f "$TRASH/stub.port"
    setsid "$QUILT_TEST_PYTHON" "$REPO/scripts/stub_catalog.py" --port 0 --port-file "$TRASH/stub.port" \
        --log "$TRASH/stub.log" --secrets-file "$TRASH/stub.secrets" "$@" </dev/null 2>>"$TRASH/stub.err" &
    STUB_PID=$!
    local _
    for _ in $(seq 300); do [ -s "$TRASH/stub.port" ] && break; sleep 0.05; done
    [ -s "$TRASH/stub.port" ] || { echo "stub catalog did not start:" >&2; cat "$TRASH/stub.err" >&2; return 1; }
    STUB_URL=http://127.0.0.1:$(cat "$TRASH/stub.port")
}

stub_catalog_stop() {
    [ -n "${STUB_PID:-}" ] || return 0
    kill "$STUB_PID" 2>/dev/null
    wait "$STUB_PID" 2>/dev/null
    STUB_PID=
}

# proxy_start [RULES [faultproxy options...]]: starts scripts/faultproxy.py in front of the shared moto, injecting
# RULES (default: nothing) and logging every request (method, path, query parameter names, status, bytes sent back)
# to proxy.log in the current directory. Sets PROXY_URL and PROXY_PID. proxy_stop stops it; a test file that starts
# one says `trap proxy_stop EXIT`.
PROXY_PID=
proxy_start() {
    local rules=${1:-}
    [ $# -gt 0 ] && shift
    rm -f proxy.port
    setsid "$QUILT_TEST_PYTHON" "$REPO/scripts/faultproxy.py" --upstream "$QUILT_TEST_S3_ENDPOINT" \
        --port-file proxy.port --schedule "$rules" --lifetime 300 --log proxy.log "$@" </dev/null 2>>proxy.err &
    PROXY_PID=$!
    local n=0
    while [ ! -s proxy.port ]; do
        n=$((n + 1)); [ $n -gt 100 ] && { echo "proxy did not start"; cat proxy.err; return 1; }
        sleep 0.05
    done
    PROXY_URL="http://127.0.0.1:$(cat proxy.port)"
}

proxy_stop() {
    [ -n "$PROXY_PID" ] || return 0
    kill "$PROXY_PID" 2>/dev/null; wait "$PROXY_PID" 2>/dev/null
    PROXY_PID=
}

# no_secret_in FILE...: none of the stub's secrets (nor extra ones in $EXTRA_SECRETS, one per line) appears in the
# files, and no SigV4 or bearer material either.
no_secret_in() {
    local patterns="$TRASH/.secret-patterns"
    { cat "$TRASH/stub.secrets" 2>/dev/null; printf '%s\n' ${EXTRA_SECRETS:-}; } | sed '/^$/d' >"$patterns"
    if [ -s "$patterns" ] && grep -n -F -f "$patterns" "$@"; then
        echo "no_secret_in: a secret appears above" >&2; return 1
    fi
    if grep -n -i -e 'Signature=' -e 'Credential=' -e 'X-Amz-Security-Token' -e 'Authorization:' -e 'Bearer ' "$@"; then
        echo "no_secret_in: signing or bearer material appears above" >&2; return 1
    fi
    return 0
}
