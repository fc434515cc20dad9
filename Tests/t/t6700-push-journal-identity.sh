#!/usr/bin/env bash
test_description='the push journal reuses an upload only for the same version of the file: after an interrupted
push, a file rewritten with its size kept and its modification time put back (touch -r) is sent again, whole files
and multipart parts alike; an unchanged file is not; records of older journals (no inode or ctime) are checked
against the bytes before they are reused'
. "$(dirname "$0")/lib.sh"

BUCKET=journal-$$
JOURNALS="$XDG_DATA_HOME/Quilt/journal"

# interrupted_push NAME: a push killed with SIGKILL once its small files are uploaded and journalled and its big
# file's multipart upload has started (its first part recorded), so the rerun has both to reuse.
interrupted_push() {
    rm -rf "$JOURNALS"
    quilt push "$1" d --registry "s3://$BUCKET" --message interrupted >/dev/null 2>&1 &
    kill9_when $! "grep -qs '\"op\":\"part\"' \"\$JOURNALS\"/push-*.jsonl" || { echo "the push was not interrupted"; return 1; }
    grep -q '"op":"done".*a\.txt' "$JOURNALS"/push-*.jsonl && grep -q '"op":"part"' "$JOURNALS"/push-*.jsonl ||
        { echo "the journal does not have what the test needs:"; cat "$JOURNALS"/push-*.jsonl; return 1; }
}

# rewrite FILE SEED: new bytes of the same size in the same inode, with the old modification time put back.
rewrite() {
    cp -p "$1" "$1.ref" &&
    "$QUILT_TEST_PYTHON" - "$1" "$2" <<'PY' &&
import os, random, sys
path, seed = sys.argv[1], sys.argv[2]
size = os.path.getsize(path)
with open(path, "r+b") as f:
    f.write(random.Random(seed).randbytes(size))
PY
    touch -r "$1.ref" "$1" && rm "$1.ref"
}

# old_journal: strips what older journals did not record (dev, ino, ctime) from every record.
old_journal() {
    "$QUILT_TEST_PYTHON" - "$JOURNALS"/push-*.jsonl <<'PY'
import json, sys
for path in sys.argv[1:]:
    lines = [json.loads(l) for l in open(path) if l.strip()]
    with open(path, "w") as f:
        for r in lines:
            for k in ("dev", "ino", "ctime"):
                r.pop(k, None)
            f.write(json.dumps(r, separators=(",", ":")) + "\n")
PY
}

# rerun NAME: the same push again, with a log of its requests; then what it published installs and verifies
# and holds the files as they are now.
rerun() {
    quilt push "$1" d --registry "s3://$BUCKET" --message rerun --verbose >/dev/null 2>requests &&
    rm -rf inst && quilt install "$1" --registry "s3://$BUCKET" --dest inst >/dev/null &&
    quilt verify "$1" --registry "s3://$BUCKET" --dir inst >/dev/null &&
    cmp d/a.txt inst/a.txt && cmp d/big.bin inst/big.bin
}
sent() { grep -c "S3 $1 s3://$BUCKET/$2" requests; }

test_expect_success S3 'setup' '
	s3_make_bucket $BUCKET --versioned &&
	make_file d/a.txt 5000 a0 && make_file d/big.bin $((40 * 1048576)) big0
'

test_expect_success S3 'an unchanged file is reused from the journal of an interrupted push' '
	interrupted_push ns/p1 && rerun ns/p1 &&
	test "$(sent PutObject ns/p1/a.txt)" -eq 0 &&
	test "$(sent CreateMultipartUpload ns/p1/big.bin)" -eq 0
'

test_expect_success S3 'a file rewritten with the same size and mtime is sent again, whole and in parts' '
	interrupted_push ns/p2 &&
	rewrite d/a.txt a1 && rewrite d/big.bin big1 &&
	rerun ns/p2 &&
	test "$(sent PutObject ns/p2/a.txt)" -eq 1 &&
	test "$(sent CreateMultipartUpload ns/p2/big.bin)" -eq 1
'

test_expect_success S3 'records of an older journal: a rewritten file is found out by its bytes' '
	interrupted_push ns/p3 && old_journal &&
	rewrite d/a.txt a2 && rewrite d/big.bin big2 &&
	rerun ns/p3 &&
	test "$(sent PutObject ns/p3/a.txt)" -eq 1
'

test_expect_success S3 'records of an older journal: an unchanged file is reused once its bytes match' '
	interrupted_push ns/p4 && old_journal &&
	rerun ns/p4 &&
	test "$(sent PutObject ns/p4/a.txt)" -eq 0 &&
	test "$(sent CreateMultipartUpload ns/p4/big.bin)" -eq 0
'

test_expect_success S3 'no multipart upload is left open (replaced ones were aborted)' '
	"$QUILT_TEST_PYTHON" - $BUCKET <<-\PY
	import os, sys, boto3
	s3 = boto3.client("s3", endpoint_url=os.environ["QUILT_TEST_S3_ENDPOINT"])
	uploads = s3.list_multipart_uploads(Bucket=sys.argv[1]).get("Uploads", [])
	assert not uploads, [(u["Key"], u["UploadId"]) for u in uploads]
	PY
'

test_done
