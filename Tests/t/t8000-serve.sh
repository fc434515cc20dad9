#!/usr/bin/env bash
test_description='quilt serve with curl: pages, headers on every response, hostile keys and URLs, read-only methods, verified downloads and ranges, damaged objects, the log, stopping on SIGINT and SIGTERM, the address warned about, no NIO in the other programs'
. "$(dirname "$0")/lib.sh"

command -v curl >/dev/null && test_set_prereq CURL
command -v nm >/dev/null && test_set_prereq NM

SERVE_PID=
# serve_start ARGS...: quilt serve on a free port with ARGS (stderr to serve.log); sets URL and SERVE_PID.
serve_start() {
	rm -f serve.log
	quilt serve --port 0 "$@" </dev/null 2>serve.log &
	SERVE_PID=$!
	local _
	for _ in $(seq 200); do grep -q "^serving" serve.log 2>/dev/null && break; sleep 0.05; done
	URL=$(sed -n "s|^serving .* at \(http://[^ ]*\) .*|\1|p" serve.log)
	[ -n "$URL" ] || { cat serve.log; return 1; }
}
# serve_stop [SIGNAL]: stops it (SIGINT by default); its exit status must be 0.
serve_stop() {
	[ -n "$SERVE_PID" ] || return 0
	kill -"${1:-INT}" "$SERVE_PID" && wait "$SERVE_PID"
	local status=$?
	SERVE_PID=
	return $status
}
trap 'test -n "$SERVE_PID" && kill -9 "$SERVE_PID" 2>/dev/null' EXIT

# get PATH [CURL OPTIONS...]: the body; code PATH: the status; headers PATH: the response headers.
get() { local p=$1; shift; curl -s --path-as-is "$@" "$URL${p#/}"; }
code() { local p=$1; shift; curl -s --path-as-is -o /dev/null -w "%{http_code}" "$@" "$URL${p#/}"; }
headers() { local p=$1; shift; curl -s --path-as-is -o /dev/null -D - "$@" "$URL${p#/}" | tr -d '\r'; }

test_expect_success 'setup: a package of two revisions with hostile keys, a damaged file and a big one' '
	mkdir -p d/docs d/sub &&
	printf "a,b,c\n1,2,3\n4,\"x,<y>\",6\n" >d/table.csv &&
	printf "x\ty\n1\t2\n" >d/sub/t.tsv &&
	printf "# Demo\n\nSee [the table](table.csv), [docs](docs/) and [bad](javascript:alert(1)).\n\n<script>alert(1)</script>\n" >d/README.md &&
	printf "<html><body><script>alert(1)</script>x</body></html>\n" >d/page.html &&
	printf "{\"k\": [1, 2.5, null], \"s\": \"<b>\"}" >d/data.json &&
	printf "plain\n" >d/docs/note.txt &&
	printf "ok\n" >hi.txt &&
	make_file d/big.bin 20000000 &&
	quilt build t/pkg d --meta "{\"owner\": \"<me>\", \"n\": {\"k\": [1, 2]}}" --message "first <b>" >top1 &&
	sleep 1.1 &&
	echo more >d/more.txt &&
	quilt build t/pkg d --meta "{\"owner\": \"you\"}" --message second \
		--set "weird/<script>alert(1)<_script> ?#%.txt=hi.txt" --set "日本/ü b.txt=hi.txt" >top2
'

test_expect_success CURL 'it listens on 127.0.0.1 and says where' '
	serve_start &&
	case $URL in http://127.0.0.1:*/) ;; *) false ;; esac &&
	grep -q "^serving file://$(local_registry) at " serve.log
'

test_expect_success CURL 'the package list: name, latest revision, message, date, entries and size' '
	get / >home.html &&
	grep -q "<a href=\"/packages/t/pkg/\">t/pkg</a>" home.html &&
	grep -q "title=\"$(cat top2)\">$(cut -c1-10 top2)</a>" home.html &&
	grep -q "<td class=\"message\">second</td>" home.html &&
	grep -q "<td class=\"num\">10</td>" home.html && grep -q "UTC</time>" home.html
'

test_expect_success CURL 'the package page: metadata tree, README rendered and made safe, files, Quilt+ URI' '
	get /packages/t/pkg/ >pkg.html &&
	grep -q "<span class=\"key\">owner</span> <code class=\"value string\">&quot;you&quot;</code>" pkg.html &&
	grep -q "<h1>Demo</h1>" pkg.html &&
	grep -q "<a href=\"/packages/t/pkg/@$(cat top2)/file/table.csv\">the table</a>" pkg.html &&
	grep -q "<a href=\"/packages/t/pkg/@$(cat top2)/tree/docs/\">docs</a>" pkg.html &&
	grep -q "<a>bad</a>" pkg.html && ! grep -q "javascript:" pkg.html &&
	grep -q "&lt;script&gt;alert(1)&lt;/script&gt;" pkg.html && ! grep -q "<script" pkg.html &&
	grep -q "quilt+file://$(local_registry)#package=t/pkg@$(cat top2)" pkg.html &&
	grep -q ">big.bin</a></td><td class=\"num\" title=\"20000000 bytes\">19 MiB</td>" pkg.html &&
	grep -q "<a href=\"/packages/t/pkg/@$(cat top2)/tree/sub/\">sub/</a>" pkg.html
'

test_expect_success CURL 'a hostile key is shown as text and links back to itself' '
	get "/packages/t/pkg/@$(cat top2)/tree/weird/" >weird.html &&
	grep -q "&lt;script&gt;alert(1)&lt;_script&gt; ?#%.txt</a>" weird.html && ! grep -q "<script" weird.html &&
	href=$(sed -n "s|.*<a href=\"\([^\"]*file/weird/[^\"]*\)\".*|\1|p" weird.html) &&
	test "$href" = "/packages/t/pkg/@$(cat top2)/file/weird/%3Cscript%3Ealert%281%29%3C_script%3E%20%3F%23%25.txt" &&
	get "$href" >file.html && grep -q "<h1>&lt;script&gt;alert(1)&lt;_script&gt; ?#%.txt</h1>" file.html &&
	get "$(sed -n "s|.*href=\"\([^\"]*/download/[^\"]*\)\".*|\1|p" file.html)" >got && test_cmp hi.txt got &&
	get "/packages/t/pkg/@$(cat top2)/download/%E6%97%A5%E6%9C%AC/%C3%BC%20b.txt" >got && test_cmp hi.txt got
'

test_expect_success CURL 'previews: a CSV table, a TSV, JSON pretty, HTML as text, an image-less key has no inline view' '
	base=/packages/t/pkg/@$(cat top2) &&
	get "$base/file/table.csv" >csv.html &&
	grep -q "<th>a</th><th>b</th><th>c</th>" csv.html && grep -q "<td>x,&lt;y&gt;</td>" csv.html &&
	get "$base/file/sub/t.tsv" | grep -q "<td>1</td><td>2</td>" &&
	get "$base/file/data.json" >json.html &&
	grep -q "^  &quot;s&quot;: &quot;&lt;b&gt;&quot;$" json.html &&
	get "$base/file/page.html" >html.html &&
	grep -q "<pre class=\"text\">&lt;html&gt;&lt;body&gt;&lt;script&gt;" html.html && ! grep -q "<script" html.html &&
	test "$(code "$base/raw/page.html")" = 404 &&
	test "$(code "$base/raw/table.csv")" = 404
'

test_expect_success CURL 'every response has the security headers, pages and errors and bytes alike' '
	base=/packages/t/pkg/@$(cat top2) &&
	for p in / /-/style.css /packages/ /packages/t/pkg/ "$base/tree/sub/" "$base/file/table.csv" "$base/download/table.csv" \
		/packages/t/pkg/revisions "/packages/t/pkg/compare" /nothing "$base/file/nothing" /packages/no/such/; do
		headers "$p" >h &&
		grep -qx "Content-Security-Policy: default-src .none.; style-src .self.; img-src .self.; form-action .self.; base-uri .none.; frame-ancestors .none." h &&
		grep -qx "X-Content-Type-Options: nosniff" h || { echo "$p"; cat h; return 1; }
	done &&
	headers / -X POST >h && grep -qx "X-Content-Type-Options: nosniff" h
'

test_expect_success CURL 'hostile URLs name no file: 404, and nothing of /etc/passwd' '
	base=/packages/t/pkg/@$(cat top2) &&
	for p in "$base/file/../../../../etc/passwd" "$base/file/%2e%2e/%2e%2e/%2e%2e/etc/passwd" "$base/download/%2e%2e%2f%2e%2e%2fetc%2fpasswd" \
		"$base/file//etc/passwd" "$base/download/%2Fetc%2Fpasswd" "$base/file/table.csv%00.png" "$base/file/%ff%fe" \
		"$base/file/./table.csv" "$base/file/sub/../table.csv" "$base/tree/.." "/../../../etc/passwd" "/packages/t/../../etc/passwd" \
		"/packages/t/pkg/@$(cat top2)/raw/../../../../etc/hosts.png" "/packages/t/pkg/@..%2F..%2F/file/x" "/%2e%2e/%2e%2e/etc/passwd" \
		"$base/file/$(printf %s "$TRASH/d/table.csv" | sed "s|^/||")"; do
		test "$(code "$p")" = 404 || { echo "$p: $(code "$p")"; return 1; }
		! get "$p" | grep -q "root:" || { echo "$p served /etc/passwd"; return 1; }
	done &&
	test "$(code "$base/file/table.csv")" = 200
'

test_expect_success CURL 'read-only: GET and HEAD only, everything else 405 with Allow' '
	for m in POST PUT DELETE PATCH OPTIONS TRACE PROPFIND; do
		test "$(code / -X $m)" = 405 || return 1
	done &&
	headers /packages/t/pkg/ -X DELETE >h && grep -qx "Allow: GET, HEAD" h &&
	test "$(quilt-rev-parse t/pkg)" = "$(cat top2)" &&
	headers "/packages/t/pkg/@$(cat top2)/download/big.bin" -I >h &&
	grep -qx "Content-Length: 20000000" h && grep -qx "Accept-Ranges: bytes" h &&
	port=${URL##*:} && port=${port%/} &&
	exec 3<>/dev/tcp/127.0.0.1/$port &&
	printf "HEAD /packages/t/pkg/@$(cat top2)/download/big.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" >&3 &&
	cat <&3 >head.out && exec 3<&- &&
	grep -q "^HTTP/1.1 200" head.out && test "$(sed -n "/^\r$/,\$p" head.out | wc -c)" -eq 2
'

test_expect_success CURL 'downloads are the bytes, with a name; one range at a time' '
	base=/packages/t/pkg/@$(cat top2) &&
	get "$base/download/big.bin" >got && cmp d/big.bin got &&
	headers "$base/download/big.bin" >h &&
	grep -qx "Content-Type: application/octet-stream" h &&
	grep -qx "Content-Disposition: attachment; filename=\"big.bin\"; filename\*=UTF-8..big.bin" h &&
	get "$base/download/big.bin" -H "Range: bytes=8388600-8388615" >part &&
	dd if=d/big.bin bs=1 skip=8388600 count=16 2>/dev/null | cmp - part &&
	headers "$base/download/big.bin" -H "Range: bytes=19999990-" >h &&
	grep -q "^HTTP/1.1 206" h && grep -qx "Content-Range: bytes 19999990-19999999/20000000" h &&
	test "$(code "$base/download/big.bin" -H "Range: bytes=20000000-")" = 416 &&
	test "$(code "$base/download/table.csv" -H "If-None-Match: $(headers "$base/download/table.csv" | sed -n "s/^ETag: //p")")" = 304
'

test_expect_success CURL 'compare and revisions pages' '
	get "/packages/t/pkg/compare?from=$(cat top1)&to=$(cat top2)" >cmp.html &&
	grep -q "<span class=\"added\">3 added</span>, <span class=\"modified\">0 modified</span>, <span class=\"deleted\">0 deleted</span>" cmp.html &&
	grep -q ">more.txt</a></li>" cmp.html &&
	grep -q "<td><code>user_meta.owner</code></td><td><code>&quot;&lt;me&gt;&quot;</code></td><td><code>&quot;you&quot;</code></td>" cmp.html &&
	grep -q "<td><code>message</code></td><td><code>&quot;first &lt;b&gt;&quot;</code>" cmp.html &&
	get /packages/t/pkg/compare | grep -q "3 added" &&
	get /packages/t/pkg/revisions >rev.html &&
	grep -c "<tr><td><time" rev.html >n && test "$(cat n)" = 2 &&
	grep -q "<td class=\"message\">first &lt;b&gt;</td>" rev.html
'

test_expect_success CURL 'a damaged object: 502 and no byte of it; its page says so' '
	base=/packages/t/pkg/@$(cat top2) &&
	cp d/table.csv table.keep && printf "A,b,c\n1,2,3\n4,\"x,<y>\",6\n" >d/table.csv &&
	get "$base/download/table.csv" -o got -w "%{http_code}" >status &&
	test "$(cat status)" = 502 && ! grep -q "^A,b,c" got && grep -q "hash mismatch" got &&
	get "$base/file/table.csv" | grep -q "<p class=\"error\">hash mismatch for &#39;table.csv&#39;" &&
	cp table.keep d/table.csv && get "$base/download/table.csv" | cmp - d/table.csv
'

test_expect_success CURL 'one log line per request: address, method and path, status, bytes, time' '
	grep -E "^127\.0\.0\.1 \"GET /packages/t/pkg/@[0-9a-f]{64}/download/table\.csv\" 502 [0-9]+ [0-9.]+ms$" serve.log &&
	grep -E "^127\.0\.0\.1 \"DELETE /packages/t/pkg/\" 405 " serve.log &&
	test "$(grep -c "^127.0.0.1 \"" serve.log)" -ge 40
'

test_expect_success CURL 'SIGINT stops it cleanly: exit 0, stopped' '
	serve_stop INT && grep -q "^stopping" serve.log && tail -n 1 serve.log | grep -qx stopped &&
	test "$(code /)" = 000
'

# The two good chunks are handed to the connection (the log counts them); a client may get fewer of their bytes, as
# the connection is closed once the third fails, but never a byte past them.
test_expect_success CURL 'a damaged chunk found mid-download cuts the response short after the good chunks' '
	(unset QUILT_DISABLE_CACHE; serve_start; echo "$URL" >url; echo $SERVE_PID >pid; wait $SERVE_PID) &
	for _ in $(seq 200); do test -s pid && break; sleep 0.05; done &&
	URL=$(cat url) &&
	base=/packages/t/pkg/@$(cat top2) &&
	get "$base/download/big.bin" | cmp - d/big.bin &&
	cp d/big.bin big.keep &&
	printf X | dd of=d/big.bin bs=1 seek=19999000 conv=notrunc 2>/dev/null &&
	test_must_fail curl -s -f -o got "$URL${base#/}/download/big.bin" &&
	n=$(wc -c <got) && test "$n" -le 16777216 && cmp -n "$n" got big.keep &&
	cp big.keep d/big.bin &&
	kill -TERM "$(cat pid)" && wait &&
	grep -q "download/big.bin\" 200 16777216 .* cut short: hash mismatch for .big.bin. in chunk 3 of 3" serve.log
'

test_expect_success CURL 'SIGTERM stops it too; --registry repeated serves each, by its own name' '
	mkdir other && quilt build o/p d --registry other >/dev/null &&
	serve_start --registry "$(local_registry)" --registry other &&
	get / >home.html &&
	grep -q "<a href=\"/packages/t/pkg/\">t/pkg</a>" home.html && grep -q "<a href=\"/other/o/p/\">o/p</a>" home.html &&
	test "$(code /other/t/pkg/)" = 404 &&
	serve_stop TERM
'

test_expect_success CURL 'an address other than loopback is warned about; one that cannot be listened on is exit 1' '
	test_must_fail --exit=1 quilt serve --bind 192.0.2.1 --port 0 2>err &&
	grep -q "^warning: listening on 192.0.2.1: anyone who can reach this machine" err &&
	grep -q "^warning: .* on its port can read" err &&
	grep -qx "error: cannot listen on 192.0.2.1:0: Cannot assign requested address" err &&
	serve_start && port=${URL##*:} && port=${port%/} &&
	test_must_fail --exit=1 quilt serve --port "$port" 2>err &&
	grep -qx "error: cannot listen on 127.0.0.1:$port: Address already in use" err &&
	serve_stop
'

test_expect_success 'usage errors: a bad port, a bad registry' '
	test_must_fail --exit=64 quilt serve --port 70000 2>err && grep -q "port" err &&
	test_must_fail --exit=64 quilt serve --registry "s3://" 2>err
'

test_expect_success 'quilt serve runs quilt-serve beside quilt; without it, an error that says so' '
	mkdir lonely && cp "$QUILT_BUILD_DIR/quilt" lonely/ &&
	PATH="$TRASH/lonely:/usr/bin:/bin" test_must_fail --exit=1 lonely/quilt serve --port 0 2>err &&
	grep -q "^error: quilt serve runs the quilt-serve program" err &&
	lonely/quilt serve --help | grep -q "^USAGE: quilt serve"
'

test_expect_success NM 'only quilt-serve links NIO and Hummingbird' '
	nm "$QUILT_BUILD_DIR/quilt-serve" | grep -c "NIOCore" >n && test "$(cat n)" -gt 100 &&
	for p in quilt quilt-hash-object quilt-write-manifest quilt-fetch-blob; do
		! nm "$QUILT_BUILD_DIR/$p" | grep -q -e NIOCore -e Hummingbird -e 7Mustache || { echo "$p links NIO"; return 1; }
	done
'

test_done
