#!/usr/bin/env bash
test_description='quilt serve in headless chromium (Selenium): from the package list to a package, a directory, a file (table cells, an image'"'"'s natural size) and a compare page picked with the form, what a person sees checked and screenshots saved under .build/test-logs/t8010'
. "$(dirname "$0")/lib.sh"

# Debian's chromium and chromium-driver, and Selenium in the venv: scripts/bootstrap installs all three.
test -x /usr/bin/chromium && test -x /usr/bin/chromedriver &&
	"$QUILT_TEST_PYTHON" -c 'import selenium' 2>/dev/null && test_set_prereq CHROMIUM
command -v curl >/dev/null && test_set_prereq CURL
shots=$REPO/.build/test-logs/t8010

SERVE_PID=
trap 'test -n "$SERVE_PID" && kill -9 "$SERVE_PID" 2>/dev/null' EXIT

# png W H FILE: a W×H RGB PNG (a gradient, so no two images are alike).
png() {
	"$QUILT_TEST_PYTHON" - "$@" <<'PY'
import struct, sys, zlib
w, h, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
rows = b"".join(b"\0" + b"".join(bytes((x * 30 % 256, y * 80 % 256, 128)) for x in range(w)) for y in range(h))
chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
open(path, "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
                       + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
PY
}

test_expect_success 'setup: two revisions with a README, a CSV, a TSV, an image, HTML and a hostile key' '
	mkdir -p d/sub &&
	printf "a,b,c\n1,2,3\n4,\"x,<y>\",6\n" >d/table.csv &&
	printf "x\ty\n1\t2\n" >d/sub/t.tsv &&
	printf "# Demo\n\nSee [the table](table.csv).\n\n<script>alert(1)</script>\n" >d/README.md &&
	printf "<html><body><script>alert(1)</script>x</body></html>\n" >d/page.html &&
	png 7 3 d/pic.png && printf "ok\n" >hi.txt &&
	quilt build t/pkg d --meta "{\"owner\": \"<me>\"}" --message "first <b>" >top1 &&
	sleep 1.1 && echo more >d/more.txt &&
	quilt build t/pkg d --meta "{\"owner\": \"you\"}" --message second \
		--set "weird/<script>alert(1)<_script> ?#%.txt=hi.txt" --set "weird/x.txt=hi.txt" >top2
'

test_expect_success CHROMIUM,CURL 'chromium: list, package, directory, files, image, hostile key, compare by the form' '
	quilt serve --port 0 </dev/null 2>serve.log &
	SERVE_PID=$! &&
	for _ in $(seq 200); do grep -q "^serving" serve.log && break; sleep 0.05; done &&
	url=$(sed -n "s|^serving .* at \(http://[^ ]*\) .*|\1|p" serve.log) && test -n "$url" &&
	rm -rf "$shots" &&
	"$QUILT_TEST_PYTHON" "$REPO/Tests/t/serve_browser.py" --url "$url" --shots "$shots" --name local \
		local "$(cat top1)" "$(cat top2)" &&
	ls "$shots"/local-*-compare.png "$shots"/local-*-image.png &&
	kill -INT $SERVE_PID && wait $SERVE_PID && SERVE_PID=
'

test_expect_success CHROMIUM 'the browser asked for nothing but pages, the stylesheet and the image (and its icon): all of them GET, none failed' '
	! grep "^127.0.0.1 \"" serve.log | grep -v "^127.0.0.1 \"GET " &&
	grep -q "\"GET /-/style.css\" 200 " serve.log &&
	grep -q "\"GET /packages/t/pkg/@[0-9a-f]*/raw/pic.png\" 200 " serve.log &&
	! grep -v "\"GET /favicon.ico\" 404 " serve.log | grep -q "\" [45][0-9][0-9] "
'

test_done
