#!/usr/bin/env bash
test_description='quilt serve of an S3 registry (moto): a package quilt3 pushed is listed, its README rendered, its directories, previews and verified downloads served from S3, and browsable in headless chromium; two registries side by side'
. "$(dirname "$0")/lib.sh"

command -v curl >/dev/null && test_set_prereq CURL
test -x /usr/bin/chromium && test -x /usr/bin/chromedriver &&
	"$QUILT_TEST_PYTHON" -c 'import selenium' 2>/dev/null && test_set_prereq CHROMIUM
bucket=serve-$$-$RANDOM

SERVE_PID=
trap 'test -n "$SERVE_PID" && kill -9 "$SERVE_PID" 2>/dev/null' EXIT
serve_start() {
	rm -f serve.log
	quilt serve --port 0 "$@" </dev/null 2>serve.log &
	SERVE_PID=$!
	local _
	for _ in $(seq 200); do grep -q "^serving" serve.log 2>/dev/null && break; sleep 0.05; done
	URL=$(sed -n "s|^serving .* at \(http://[^ ]*\) .*|\1|p" serve.log)
	[ -n "$URL" ] || { cat serve.log; return 1; }
}
get() { curl -s --path-as-is "$URL${1#/}"; }
code() { curl -s --path-as-is -o /dev/null -w "%{http_code}" "$URL${1#/}"; }

test_expect_success S3,QUILT3 'setup: quilt3 pushes a package with a README, a CSV and a 3 MB file to moto (quilt3 8.0.0 cannot upload 8 MiB or more to moto: s3-testing.md)' '
	s3_make_bucket $bucket --versioned &&
	mkdir -p d/data &&
	printf "# From quilt3\n\nPushed by *quilt3*.\n" >d/README.md &&
	printf "id,name\n1,alpha\n2,beta\n" >d/data/rows.csv &&
	make_file d/data/big.bin 3000000 &&
	quilt3_py - "s3://$bucket" "$TRASH/d" >push.out <<-\PY &&
	import sys, quilt3
	p = quilt3.Package()
	p.set_dir(".", sys.argv[2])
	p.set_meta({"source": "quilt3", "rows": 2})
	print(p.push("q3/pkg", registry=sys.argv[1], message="pushed by quilt3", force=True).top_hash)
	PY
	tail -n 1 push.out >top && grep -qx "[0-9a-f]\{64\}" top
'

test_expect_success S3,QUILT3,CURL 'the package list and the package page, read from S3' '
	serve_start --registry s3://$bucket &&
	grep -q "^serving s3://$bucket at " serve.log &&
	get / >home.html &&
	grep -q "<a href=\"/$bucket/q3/pkg/\">q3/pkg</a>" home.html &&
	grep -q "title=\"$(cat top)\">$(cut -c1-10 top)</a>" home.html &&
	grep -q "<td class=\"message\">pushed by quilt3</td>" home.html &&
	grep -q "<td class=\"num\">3</td>" home.html &&
	get /$bucket/q3/pkg/ >pkg.html &&
	grep -q "<h1>From quilt3</h1>" pkg.html && grep -q "<em>quilt3</em>" pkg.html &&
	grep -q "<span class=\"key\">source</span> <code class=\"value string\">&quot;quilt3&quot;</code>" pkg.html &&
	grep -q "quilt+s3://$bucket#package=q3/pkg@$(cat top)" pkg.html &&
	grep -q "<a href=\"/$bucket/q3/pkg/@$(cat top)/tree/data/\">data/</a>" pkg.html
'

test_expect_success S3,QUILT3,CURL 'a directory, a CSV preview and downloads of the verified bytes from S3' '
	base=/$bucket/q3/pkg/@$(cat top) &&
	get "$base/tree/data/" >dir.html &&
	grep -q ">big.bin</a></td><td class=\"num\" title=\"3000000 bytes\">" dir.html &&
	get "$base/file/data/rows.csv" >csv.html &&
	grep -q "<th>id</th><th>name</th>" csv.html && grep -q "<td>1</td><td>alpha</td>" csv.html &&
	get "$base/download/data/big.bin" >got && cmp got d/data/big.bin &&
	curl -s "$URL${base#/}/download/data/big.bin" -H "Range: bytes=2999990-" >part &&
	tail -c 10 d/data/big.bin | cmp - part &&
	test "$(code "$base/download/data/%2e%2e/README.md")" = 404 &&
	test "$(code "/$bucket/q3/nothing/")" = 404
'

test_expect_success S3,QUILT3,CURL,CHROMIUM 'chromium: list, package, directory and CSV of the S3 registry' '
	"$QUILT_TEST_PYTHON" "$REPO/Tests/t/serve_browser.py" --url "$URL" --shots "$REPO/.build/test-logs/t8020" --name s3 \
		s3 q3/pkg "$(cat top)"
'

test_expect_success S3,QUILT3,CURL 'a local and an S3 registry side by side, each under its own name' '
	kill -INT $SERVE_PID && wait $SERVE_PID && SERVE_PID= &&
	quilt build l/pkg d >/dev/null &&
	serve_start --registry "$(local_registry)" --registry s3://$bucket &&
	get / >home.html &&
	grep -q "<a href=\"/packages/l/pkg/\">l/pkg</a>" home.html &&
	grep -q "<a href=\"/$bucket/q3/pkg/\">q3/pkg</a>" home.html &&
	test "$(code /$bucket/l/pkg/)" = 404 &&
	kill -TERM $SERVE_PID && wait $SERVE_PID && SERVE_PID=
'

test_done
