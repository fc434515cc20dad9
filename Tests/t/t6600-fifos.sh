#!/usr/bin/env bash
test_description='FIFOs and other files that are not regular are refused at once, never read (an open of a FIFO with
no writer would wait forever): quilt-hash-object, file:// physical keys in install, fetch-blob and push, and a
registry pointer that is a FIFO'
. "$(dirname "$0")/lib.sh"

# fails_promptly CMD...: CMD exits non-zero within 10 seconds (exit 124 is the timeout's: it hung).
fails_promptly() {
    local rc
    timeout 10 "$@"
    rc=$?
    test $rc -eq 124 && { echo "fails_promptly: still running after 10 s: $*" >&2; return 1; }
    test $rc -ne 0 && test $rc -lt 125 || { echo "fails_promptly: exit $rc: $*" >&2; return 1; }
}

test_expect_success 'setup: a package whose file is then replaced by a FIFO' '
	mkdir d && echo a >d/a && echo b >d/b &&
	quilt build ns/pkg d --registry reg --message m >top &&
	rm d/a && mkfifo d/a && mkfifo fifo
'

test_expect_success 'quilt-hash-object FIFO' '
	fails_promptly quilt-hash-object fifo 2>err && cat err &&
	grep -q "^error: .*not a regular file" err && grep -qF "fifo" err &&
	fails_promptly quilt-hash-object --entries fifo 2>err && grep -q "not a regular file" err
'

test_expect_success 'install of a file:// key that is a FIFO' '
	fails_promptly quilt install ns/pkg --registry reg --dest out 2>err && cat err &&
	grep -q "^error: .*not a regular file" err && grep -qF "$TRASH/d/a" err &&
	test ! -e out/a
'

test_expect_success 'quilt-fetch-blob of a file:// key that is a FIFO' '
	quilt-cat-manifest ns/pkg --registry reg | tail -n +2 >entries &&
	fails_promptly quilt-fetch-blob --dest fb <entries 2>err && cat err &&
	grep -q "^error: .*not a regular file" err && test ! -e fb/a
'

test_expect_success 'a latest pointer that is a FIFO' '
	latest=reg/.quilt/named_packages/ns/pkg/latest &&
	mv $latest saved-latest && mkfifo $latest &&
	fails_promptly quilt-rev-parse --registry reg ns/pkg 2>err && cat err &&
	grep -q "^error: .*not a regular file" err && grep -qF "latest" err &&
	fails_promptly quilt install ns/pkg --registry reg --dest out2 2>err && grep -q "not a regular file" err &&
	rm $latest && mv saved-latest $latest
'

test_expect_success S3 'push and quilt-upload-blob of a file:// key that is a FIFO' '
	s3_make_bucket fifo-$$ --versioned &&
	mkdir d2 && echo x >d2/x && quilt build ns/local d2 --message m >/dev/null &&
	rm d2/x && mkfifo d2/x &&
	fails_promptly quilt push ns/local --registry s3://fifo-$$ 2>err && cat err &&
	grep -q "^error: .*not a regular file" err && grep -qF "d2/x" err &&
	quilt-cat-manifest ns/local | tail -n +2 |
		fails_promptly quilt-upload-blob --dest s3://fifo-$$/up 2>err && cat err &&
	grep -q "^error: .*not a regular file" err &&
	fails_promptly quilt-upload-blob d2/x s3://fifo-$$/one 2>err && grep -q "not a regular file" err
'

test_done
