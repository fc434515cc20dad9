#!/usr/bin/env bash
test_description='quilt mount and quilt umount on a local registry: the tree and sizes of the manifest, every file'"'"'s bytes, modes and the revision'"'"'s time, metadata as extended attributes, EROFS for writes, EIO for damaged files (never wrong bytes), SHA256 entries checked whole, a Quilt+ URI and its path, many readers at once, umount and signals leave the directory empty and the server gone'
. "$(dirname "$0")/lib.sh"
trap unmount_all EXIT
test_have_prereq FUSE || echo "# the FUSE tests are skipped: $FUSE_MISSING"

chunk=8388608

# keys_and_sizes TOP: the manifest's logical keys and sizes, sorted, one "KEY SIZE" a line.
keys_and_sizes() {
	quilt-cat-manifest "$1" | "$QUILT_TEST_PYTHON" -c '
import json, sys
lines = [json.loads(l) for l in sys.stdin][1:]
for key, size in sorted((e["logical_key"], e["size"]) for e in lines if "logical_key" in e):
    print(key, size)'
}

# found_keys DIR: what find sees in the mount, in the same form.
found_keys() { (cd "$1" && find . -type f -printf '%P %s\n' | LC_ALL=C sort); }

test_expect_success FUSE 'setup: nested directories, odd names, a three-chunk file, metadata, a SHA256 entry' '
	mkdir -p d/sub/deeper "d/with space" d/ünï && printf "hello\n" >d/a.txt && : >d/empty &&
	make_file d/sub/big $((2 * chunk + 5)) && make_file d/sub/deeper/c.csv 70000 &&
	printf "x,y\n1,2\n" >"d/with space/t.csv" && printf "u\n" >d/ünï/f && cp d/sub/big big.orig &&
	find d -type f | LC_ALL=C sort | quilt-hash-object --entries --root d --stdin-paths >entries.jsonl &&
	"$QUILT_TEST_PYTHON" - <<-\PY &&
	import json
	lines = [json.loads(l) for l in open("entries.jsonl")]
	for e in lines:
	    if e["logical_key"] == "a.txt":
	        e["meta"] = {"user_meta": {"source": "lab", "n": 1.5}}
	    if e["logical_key"] == "sub/deeper/c.csv":
	        e["meta"] = {"user_meta": None}
	open("entries.jsonl", "w").write("".join(json.dumps(e) + "\n" for e in lines))
	PY
	top=$(quilt-write-manifest --message one <entries.jsonl) && quilt-update-ref ns/p $top &&
	stamp=$(ls "$(local_registry)/.quilt/named_packages/ns/p" | grep -v latest) &&
	make_file legacy/l.bin 9000000 &&
	quilt-hash-object --type SHA256 --entries --root legacy legacy/l.bin >legacy.jsonl &&
	legacy=$(quilt-write-manifest <legacy.jsonl) && quilt-update-ref ns/legacy $legacy
'

test_expect_success FUSE 'mount returns once mounted (exit 0), and the server runs in the background' '
	quilt_mount m ns/p && test -n "$MOUNT_PID" && kill -0 $MOUNT_PID &&
	grep -q " $TRASH/m fuse.quilt ro," /proc/self/mounts
'

test_expect_success FUSE 'find lists exactly the logical keys, with the manifest'"'"'s sizes' '
	keys_and_sizes $top >expect && found_keys m >actual && test_cmp expect actual &&
	test_line_count = 6 actual
'

test_expect_success FUSE 'every file reads back its bytes' '
	diff -r d m
'

test_expect_success FUSE 'modes 0444 and 0555, every time the revision'"'"'s, ls of the root' '
	stat -c "%a %F %Y" m m/a.txt m/sub m/sub/big >out &&
	printf "555 directory %s\n444 regular file %s\n555 directory %s\n444 regular file %s\n" $stamp $stamp $stamp $stamp >expect &&
	test_cmp expect out &&
	ls m >out && printf "a.txt\nempty\nsub\nwith space\nünï\n" >expect && test_cmp expect out
'

test_expect_success FUSE 'user_meta as user.quilt.meta, the hash as user.quilt.hash; no attribute where there is none' '
	"$QUILT_TEST_PYTHON" - "$top" <<-\PY
	import errno, json, os, subprocess, sys
	manifest = [json.loads(l) for l in subprocess.run(["quilt-cat-manifest", sys.argv[1]], capture_output=True, check=True).stdout.splitlines()]
	entries = {e["logical_key"]: e for e in manifest[1:] if "logical_key" in e}
	meta = lambda p: json.loads(os.getxattr(p, "user.quilt.meta"))
	assert meta("m/a.txt") == {"source": "lab", "n": 1.5}, meta("m/a.txt")
	assert os.getxattr("m/sub/deeper/c.csv", "user.quilt.meta") == b"null"
	for key, e in entries.items():
	    assert json.loads(os.getxattr("m/" + key, "user.quilt.hash")) == e["hash"], key
	try:
	    os.getxattr("m/empty", "user.quilt.meta")
	    raise SystemExit("empty has user.quilt.meta")
	except OSError as error:
	    assert error.errno == errno.ENODATA, error
	assert sorted(os.listxattr("m/a.txt")) == ["user.quilt.hash", "user.quilt.meta"], os.listxattr("m/a.txt")
	assert os.listxattr("m/empty") == ["user.quilt.hash"]
	assert os.listxattr("m/sub") == []
	PY
'

test_expect_success FUSE 'writes of any kind fail with EROFS' '
	"$QUILT_TEST_PYTHON" - <<-\PY
	import errno, os
	attempts = [
	    lambda: os.open("m/new", os.O_WRONLY | os.O_CREAT, 0o644),
	    lambda: os.open("m/a.txt", os.O_WRONLY),
	    lambda: os.open("m/a.txt", os.O_RDWR),
	    lambda: os.truncate("m/a.txt", 0),
	    lambda: os.mkdir("m/dir"),
	    lambda: os.unlink("m/a.txt"),
	    lambda: os.rmdir("m/sub/deeper"),
	    lambda: os.rename("m/a.txt", "m/b.txt"),
	    lambda: os.chmod("m/a.txt", 0o777),
	    lambda: os.utime("m/a.txt", (0, 0)),
	    lambda: os.symlink("a.txt", "m/link"),
	    lambda: os.link("m/a.txt", "m/hard"),
	    lambda: os.setxattr("m/a.txt", "user.x", b"1"),
	    lambda: os.removexattr("m/a.txt", "user.quilt.meta"),
	]
	for n, attempt in enumerate(attempts):
	    try:
	        attempt()
	        raise SystemExit(f"attempt {n} succeeded")
	    except OSError as error:
	        assert error.errno == errno.EROFS, (n, error)
	PY
'

test_expect_success FUSE 'many readers at once read the right bytes' '
	for n in 1 2 3 4 5 6; do
		{ cmp m/sub/big d/sub/big && cmp m/sub/deeper/c.csv d/sub/deeper/c.csv; } >reader.$n 2>&1 &
	done &&
	wait && cat reader.* >all && test ! -s all
'

test_expect_success FUSE 'umount: the directory is empty again and the server gone' '
	quilt umount m && process_gone $MOUNT_PID &&
	test -z "$(ls -A m)" && ! grep -q " $TRASH/m " /proc/self/mounts
'

test_expect_success FUSE 'a file damaged after the build reads as EIO, never as wrong bytes; the key is named' '
	printf X | dd of=d/sub/big bs=1 seek=$((chunk + 7)) conv=notrunc 2>/dev/null &&
	quilt_mount m2 ns/p &&
	test_must_fail cat m2/sub/big >out 2>err && grep -q "Input/output error" err &&
	test "$(wc -c <out)" -le $chunk && cmp out big.orig 2>&1 | grep -q "^cmp: EOF on out" &&
	grep -q "^error: hash mismatch for '"'"'sub/big'"'"' in chunk 2 of 3" m2.err &&
	dd if=m2/sub/big bs=1M skip=10 count=1 of=/dev/null 2>err; grep -q "Input/output error" err &&
	dd if=m2/sub/big bs=1M count=1 2>/dev/null | cmp - big.orig 2>&1 | grep -q "EOF on -" &&
	cmp m2/a.txt d/a.txt && kill -0 $MOUNT_PID
'

test_expect_success FUSE 'a file gone from under its file:// key reads as EIO; the mount stays up' '
	mv d/sub/deeper/c.csv c.saved &&
	test_must_fail cat m2/sub/deeper/c.csv >out 2>err && test ! -s out &&
	grep -q "c.csv" m2.err && cmp m2/a.txt d/a.txt && ls m2/sub >/dev/null &&
	mv c.saved d/sub/deeper/c.csv && cmp m2/sub/deeper/c.csv d/sub/deeper/c.csv &&
	cp big.orig d/sub/big
'

test_expect_success FUSE 'SIGTERM unmounts cleanly' '
	kill -TERM $MOUNT_PID && process_gone $MOUNT_PID && test -z "$(ls -A m2)"
'

test_expect_success FUSE 'a SHA256 entry is checked whole before its first byte: intact it reads, damaged not a byte' '
	quilt_mount m3 ns/legacy && cmp m3/l.bin legacy/l.bin &&
	quilt umount m3 && process_gone $MOUNT_PID &&
	printf X | dd of=legacy/l.bin bs=1 seek=8999999 conv=notrunc 2>/dev/null &&
	quilt_mount m3 ns/legacy && test_must_fail cat m3/l.bin >out && test ! -s out &&
	grep -q "hash mismatch for '"'"'l.bin'"'"'" m3.err &&
	kill -INT $MOUNT_PID && process_gone $MOUNT_PID && test -z "$(ls -A m3)"
'

test_expect_success FUSE 'a Quilt+ URI as the revision; its path mounts that directory' '
	reg=$(local_registry) &&
	quilt_mount m4 "quilt+file://$reg#package=ns/p@$top&path=sub" &&
	ls m4 >out && printf "big\ndeeper\n" >expect && test_cmp expect out &&
	cmp m4/deeper/c.csv d/sub/deeper/c.csv && test ! -e m4/a.txt &&
	quilt umount m4 && process_gone $MOUNT_PID &&
	test_must_fail --exit=64 quilt mount "quilt+file://$reg#package=ns/p&path=a.txt" m4 2>err &&
	grep -q "is a file of the package" err && test -z "$(ls -A m4)"
'

test_expect_success FUSE '--foreground serves in this process until fusermount3 -u' '
	mkdir m5 && { quilt mount ns/p m5 --foreground 2>fg.err & } && pid=$! &&
	for _ in $(seq 100); do grep -q " $TRASH/m5 fuse" /proc/self/mounts && break; sleep 0.1; done &&
	MOUNTED_DIRS="$MOUNTED_DIRS $TRASH/m5" MOUNTED_PIDS="$MOUNTED_PIDS $pid" &&
	cmp m5/a.txt d/a.txt && fusermount3 -u m5 && wait $pid && test -z "$(ls -A m5)"
'

test_expect_success FUSE 'errors: no such directory, a file, no such package, umount of what is not mounted, a busy mount' '
	test_must_fail --exit=64 quilt mount ns/p nowhere 2>err && grep -q "no such directory" err &&
	test_must_fail --exit=64 quilt mount ns/p d/a.txt 2>err && grep -q "not a directory" err &&
	mkdir m6 && test_must_fail quilt mount ns/none m6 2>err && grep -q "ns/none" err && test -z "$(ls -A m6)" &&
	test_must_fail --exit=64 quilt umount m6 2>err && grep -q "is not a FUSE mount" err &&
	quilt_mount m6 ns/p && exec 9<m6/a.txt &&
	test_must_fail quilt umount m6 2>err && grep -q "in use" err &&
	quilt umount --lazy m6 && exec 9<&- && process_gone $MOUNT_PID && test -z "$(ls -A m6)"
'

test_done
