#!/usr/bin/env bash
test_description='files that change while they are read: quilt build, quilt push, quilt-hash-object and
quilt-upload-blob either record what one version of the file held (size and hash of the same bytes, the bytes
sent) or refuse with "file changed while it was read"; never bytes the file never held, never a package that does
not install'
. "$(dirname "$0")/lib.sh"

RUNS=10

# The writer's files go through known states only: grow.bin is always a prefix of one fixed stream (appended to,
# now and then cut back), flip.bin is A or B once a rewrite is over, and between two of a rewrite's writes (in
# place, 32 KiB at a time) a mix of both that changes at a 32 KiB boundary. That mix is a state the file was in:
# a writer descheduled between two writes leaves it at rest, stamps and all, for as long as it is away, and a
# reader then takes it whole. Bytes mixed anywhere else were read while a write was under way: no state at all.
# The checks below accept exactly those states.
cat >"$TRASH/states.py" <<'PY'
import base64, hashlib, itertools, json, os, random, sys, time
BASE = 8 * 1048576 + 300000          # grow.bin is always a multipart upload
LIMIT = BASE + 3 * 1048576
STREAM = random.Random(1).randbytes(LIMIT)
A = random.Random(2).randbytes(2 * 1048576)
B = random.Random(3).randbytes(len(A))
PIECE = 32768                        # the writer's pwrite size

def mixes():
    """flip.bin between two writes of a rewrite: one version up to a piece boundary, the other after it."""
    for x, y in ((A, B), (B, A)):
        for i in range(PIECE, len(A), PIECE):
            yield x[:i] + y[i:]

def chunked(data):
    chunk = 8 * 1048576
    parts = [hashlib.sha256(data[i:i + chunk]).digest() for i in range(0, len(data), chunk)]
    return base64.b64encode(hashlib.sha256(b"".join(parts)).digest()).decode()

def state_of(name, data):
    """Which state `data` is, or None."""
    if name == "grow.bin":
        return f"prefix {len(data)}" if len(data) >= BASE and STREAM[:len(data)] == data else None
    if name == "flip.bin":
        return "A" if data == A else "B" if data == B else "mid-rewrite" if any(data == m for m in mixes()) else None
    return "other"

def entries(path):
    lines = open(path).read().splitlines()[1:]
    return {e["logical_key"]: e for e in map(json.loads, lines) if "logical_key" in e}

def state_for_entry(name, e):
    """The state whose size and sha2-256-chunked hash the entry records, as bytes, or None."""
    if e["hash"]["type"] != "sha2-256-chunked":
        return None
    if name == "grow.bin":
        candidates = [STREAM[:e["size"]]] if BASE <= e["size"] <= LIMIT else []
    elif name == "flip.bin":
        candidates = itertools.chain([A, B], mixes())
    else:
        return b""
    for c in candidates:
        if len(c) == e["size"] and chunked(c) == e["hash"]["value"]:
            return c
    return None

cmd = sys.argv[1]
if cmd == "init":
    d = sys.argv[2]
    os.makedirs(d, exist_ok=True)
    open(f"{d}/grow.bin", "wb").write(STREAM[:BASE])
    open(f"{d}/flip.bin", "wb").write(A)
    open(f"{d}/small.txt", "w").write("steady\n")
elif cmd == "writer":
    d, stop = sys.argv[2], sys.argv[3]
    rng = random.Random()
    grow = os.open(f"{d}/grow.bin", os.O_WRONLY | os.O_APPEND)
    flip = os.open(f"{d}/flip.bin", os.O_WRONLY)
    size, target = os.fstat(grow).st_size, B
    deadline = time.monotonic() + 600
    while not os.path.exists(stop) and time.monotonic() < deadline:
        # A burst of changes (about 40 ms), then a pause.
        for i in range(0, len(target), PIECE):
            os.pwrite(flip, target[i:i + PIECE], i)
            if i % 131072 == 0:
                if size + 65536 > LIMIT:
                    os.ftruncate(grow, BASE)
                    size = BASE
                os.write(grow, STREAM[size:size + 65536])
                size += 65536
            time.sleep(0.0005)
        target = A if target is B else B
        # Mostly short pauses; now and then one long enough for a whole push to read the files quiet.
        time.sleep(rng.uniform(0.03, 0.12) if rng.random() < 0.7 else rng.uniform(0.8, 1.5))
elif cmd == "check-manifest":
    # Every entry records the size and hash of one state of its file; prints the states found.
    bad = 0
    for name, e in sorted(entries(sys.argv[2]).items()):
        if state_for_entry(name, e) is None:
            print(f"{name}: size {e['size']} and hash {e['hash']['value']} are no state the file was in")
            bad += 1
    sys.exit(1 if bad else 0)
elif cmd == "restore":
    # Puts each file back in the state its entry records (the writer is stopped), for a local install.
    d = sys.argv[3]
    for name, e in entries(sys.argv[2]).items():
        if name != "small.txt":
            open(f"{d}/{name}", "wb").write(state_for_entry(name, e))
elif cmd == "check-dir":
    bad = 0
    for name in ("grow.bin", "flip.bin"):
        data = open(f"{sys.argv[2]}/{name}", "rb").read()
        if state_of(name, data) is None:
            print(f"{name}: {len(data)} bytes that are no state the file was in (a mix of versions)")
            bad += 1
    sys.exit(1 if bad else 0)
PY
states() { "$QUILT_TEST_PYTHON" "$TRASH/states.py" "$@"; }

start_writer() {
    rm -f stop && states writer d stop &
    WRITER=$!
}
stop_writer() {
    [ -n "${WRITER:-}" ] || return 0
    touch stop && wait "$WRITER"
    WRITER=
}
trap 'touch "$TRASH/stop" 2>/dev/null' EXIT

# quilt3_verify REGISTRY NAME DIR: quilt3 checks DIR against the revision it reads from REGISTRY.
quilt3_verify() {
    test_have_prereq QUILT3 || return 0
    quilt3_py - "$@" <<'PY'
import sys, quilt3
registry, name, directory = sys.argv[1:]
assert quilt3.Package.browse(name, registry=registry).verify(directory), "quilt3 verify failed"
PY
}

# outcome LOG: a run either succeeded (0) or failed with the one clear error naming the file; anything else is
# reported and fails the loop.
refused_clearly() {
    grep -q "^error: .*file changed while it was read" "$1" && grep -qE "(grow|flip)\.bin" "$1" && test "$(wc -l <"$1")" -le 2
}

build_loop() {
    local i rc ok=0 refused=0
    for i in $(seq 1 $RUNS); do
        sleep 0.$((RANDOM % 10))
        timeout 60 quilt build ns/b$i d --registry reg --message "run $i" >out 2>err
        rc=$?
        if [ $rc -ne 0 ]; then
            refused_clearly err || { echo "run $i: exit $rc"; cat err; return 1; }
            refused=$((refused + 1))
            continue
        fi
        quilt-cat-manifest ns/b$i --registry reg >published &&
        states check-manifest published || { echo "run $i: inconsistent entry published"; return 1; }
        mv published manifest.$i
        ok=$((ok + 1))
    done
    echo "build: $ok of $RUNS published a consistent revision, $refused refused"
    test $((ok + refused)) -eq $RUNS
}

test_expect_success 'setup' '
	states init d
'

test_expect_success "quilt build while files change, $RUNS runs: each revision records states the files were in" '
	start_writer && build_loop; rc=$?; stop_writer; test $rc -eq 0
'

test_expect_success 'and every revision built installs and verifies (files put back in the recorded state)' '
	for m in manifest.*; do
		i=${m#manifest.} &&
		states restore $m d &&
		rm -rf inst && quilt install ns/b$i --registry reg --dest inst >/dev/null &&
		quilt verify ns/b$i --registry reg --dir inst >/dev/null &&
		quilt3_verify "$TRASH/reg" ns/b$i inst || { echo "run $i does not install and verify"; return 1; }
	done
'

hash_object_loop() {
    local i
    for i in 1 2 3 4 5; do
        if quilt-hash-object --entries --root d d/grow.bin d/flip.bin >entries.$i 2>err; then
            { echo "{\"version\": \"v0\"}" && cat entries.$i; } >hm.$i && states check-manifest hm.$i || return 1
        else
            refused_clearly err || { cat err; return 1; }
        fi
    done
}

test_expect_success 'quilt-hash-object while files change: the hash of one state, or the clear error' '
	start_writer && hash_object_loop; rc=$?; stop_writer; test $rc -eq 0
'

push_loop() {
    local i rc ok=0 refused=0
    for i in $(seq 1 $RUNS); do
        sleep 0.$((RANDOM % 10))
        # One data prefix for every run, so later runs meet earlier objects of the same keys (the reuse paths).
        timeout 120 quilt push ns/p$i d --registry "s3://$BUCKET" --dest "s3://$BUCKET/data" --message "run $i" >out 2>err
        rc=$?
        if [ $rc -ne 0 ]; then
            refused_clearly err || { echo "run $i: exit $rc"; cat err; return 1; }
            refused=$((refused + 1))
            continue
        fi
        quilt-cat-manifest ns/p$i --registry "s3://$BUCKET" >pmanifest.$i &&
        states check-manifest pmanifest.$i || { echo "run $i: inconsistent entry published"; return 1; }
        rm -rf pinst &&
        quilt install ns/p$i --registry "s3://$BUCKET" --dest pinst >/dev/null 2>err ||
            { echo "run $i: published, but does not install"; cat err; return 1; }
        quilt verify ns/p$i --registry "s3://$BUCKET" --dir pinst >/dev/null &&
        states check-dir pinst &&
        quilt3_verify "s3://$BUCKET" ns/p$i pinst || { echo "run $i: installed, but does not verify"; return 1; }
        ok=$((ok + 1))
    done
    echo "push: $ok of $RUNS published a revision that installs and verifies, $refused refused"
    test $((ok + refused)) -eq $RUNS
}

BUCKET=changing-$$
test_expect_success S3 "quilt push while files change, $RUNS runs: each published revision installs and verifies" '
	s3_make_bucket $BUCKET --versioned &&
	start_writer && push_loop; rc=$?; stop_writer; test $rc -eq 0
'

upload_blob_loop() {
    local i
    for i in 1 2 3 4 5; do
        quilt-hash-object --entries --root d d/grow.bin d/flip.bin >in.$i 2>/dev/null || continue
        if quilt-upload-blob --dest "s3://$BUCKET/blobs" <in.$i >up.$i 2>err; then
            { echo "{\"version\": \"v0\"}" && cat up.$i; } >um.$i && states check-manifest um.$i || return 1
        else
            refused_clearly err || { cat err; return 1; }
        fi
    done
}

test_expect_success S3 'quilt-upload-blob while files change: the entry describes the object sent' '
	start_writer && upload_blob_loop; rc=$?; stop_writer; test $rc -eq 0
'

test_done
