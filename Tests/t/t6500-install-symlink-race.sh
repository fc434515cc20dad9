#!/usr/bin/env bash
test_description='install under a concurrent symbolic-link swap: while quilt install writes into DEST/sub, another
process keeps exchanging DEST/sub with a symbolic link to a directory outside DEST (renameat2 RENAME_EXCHANGE);
nothing is ever written outside DEST, and an install that completes verifies'
. "$(dirname "$0")/lib.sh"

RUNS=20

# swapper DEST STOP N: exchanges DEST/sub and DEST/evil (a link to the outside) until STOP exists: as fast as it
# can (N = 0), or N times at random moments in the first 100 ms (an even N leaves sub/ in place at the end).
cat >"$TRASH/swapper.py" <<'PY'
import ctypes, os, random, sys, time
dest, stop, limit = sys.argv[1], sys.argv[2], int(sys.argv[3])
libc = ctypes.CDLL(None, use_errno=True)
AT_FDCWD, RENAME_EXCHANGE = -100, 2
a, b = f"{dest}/sub".encode(), f"{dest}/evil".encode()
swaps = 0
while not os.path.exists(stop):
    if limit and swaps >= limit:
        time.sleep(0.01)
        continue
    if limit:
        time.sleep(random.uniform(0, 0.1 / limit))
    for _ in range(1 if limit else 200):
        if libc.renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE) == 0:
            swaps += 1
open(stop + ".swaps", "w").write(str(swaps))
PY

test_expect_success 'setup: a package with many files below sub/' '
	mkdir -p d/sub/deep outside &&
	for i in $(seq 1 150); do echo "file $i" >d/sub/f$i && echo "deep $i" >d/sub/deep/g$i || return 1; done &&
	echo top >d/top &&
	quilt build ns/pkg d --registry reg --message m >/dev/null
'

race_loop() {
    local i rc pid ok=0 refused=0 swaps=0
    for i in $(seq 1 $RUNS); do
        rm -rf dest stop stop.swaps && mkdir dest && ln -s "$TRASH/outside" dest/evil &&
        mkdir dest/sub || return 1
        "$QUILT_TEST_PYTHON" "$TRASH/swapper.py" dest stop $(( i % 2 ? 0 : 2 )) &
        pid=$!
        timeout 60 quilt install ns/pkg --registry reg --dest dest >/dev/null 2>err
        rc=$?
        touch stop && wait $pid
        swaps=$((swaps + $(cat stop.swaps)))
        if [ -n "$(ls -A outside)" ]; then
            echo "run $i (exit $rc): written outside DEST:"; ls -la outside; return 1
        fi
        case $rc in
        0)  # The real sub/ may have ended under the name evil: put it back, then it must verify.
            if [ -L dest/sub ]; then rm dest/sub && mv dest/evil dest/sub; else rm dest/evil; fi &&
            quilt verify ns/pkg --registry reg --dir dest >/dev/null ||
                { echo "run $i: install succeeded but does not verify"; return 1; }
            ok=$((ok + 1)) ;;
        1|65)  grep -q "^error: " err || { cat err; return 1; }
            refused=$((refused + 1)) ;;
        *)  echo "run $i: exit $rc"; cat err; return 1 ;;
        esac
    done
    echo "$RUNS runs, $swaps swaps: nothing outside DEST; $ok installs completed and verified, $refused refused"
}

test_expect_success "install while DEST/sub is swapped with a link to the outside, $RUNS runs" '
	race_loop
'

test_done
