#!/usr/bin/env bash
test_description='scripts/package --serve: quilt-swift-serve, the browser'"'"'s own package (quilt-serve and its completions, depending on quilt-swift of the same version), and its tarball extracted over quilt-swift'"'"'s; with the toolchain hidden, quilt serve runs the packaged quilt-serve, which serves a page and a verified download; without it, quilt serve says what to install'
. "$(dirname "$0")/lib.sh"

# The toolchain hidden as t0600 hides it: an empty directory mounted over it in a private mount namespace.
swift=$(command -v swift || echo /opt/swift/usr/bin/swift)
toolchain=$(cd "$(dirname "$(readlink -f "$swift")")/../.." 2>/dev/null && pwd) || toolchain=
mkdir -p "$TRASH/empty"
unshare_args=
if [ -n "$toolchain" ] && [ -d "$toolchain" ]; then
	if unshare --mount true 2>/dev/null; then unshare_args=--mount
	elif unshare --map-root-user --mount true 2>/dev/null; then unshare_args="--map-root-user --mount"
	fi
fi
[ -n "$unshare_args" ] && test_set_prereq HIDDEN
command -v dpkg-deb >/dev/null && test_set_prereq DPKG
command -v curl >/dev/null && test_set_prereq CURL

# hidden CMD...: CMD with the toolchain covered, only $bin and the system's directories on PATH.
hidden() {
	unshare $unshare_args -- sh -c 'mount --bind "$0" "$1" && shift && exec "$@"' "$TRASH/empty" "$toolchain" \
		env -u LD_LIBRARY_PATH PATH="$bin:/usr/bin:/bin" "$@"
}

# The packages: the ones scripts/test made for this run (QUILT_TEST_PACKAGE_DIR, with --serve), or made here.
pkg=${QUILT_TEST_PACKAGE_DIR:-}

test_expect_success DPKG 'scripts/package --serve makes quilt-swift-serve: quilt-serve and its completions, nothing else' '
	version=$(quilt --version | sed "s/^quilt //") && arch=$(dpkg --print-architecture) &&
	if [ -z "$pkg" ] || [ ! -s "$pkg/quilt-swift-serve_${version}_$arch.deb" ]; then
		"$REPO/scripts/package" --serve --out "$TRASH/pkg" -q && pkg=$TRASH/pkg
	fi &&
	deb=$pkg/quilt-swift-serve_${version}_$arch.deb &&
	tarball=$pkg/quilt-swift-serve-$version-linux-$(uname -m).tar.gz &&
	test "$(dpkg-deb -f "$deb" Package)" = quilt-swift-serve &&
	test "$(dpkg-deb -f "$deb" Version)" = "$version" &&
	dpkg-deb -f "$deb" Depends | tr "," "\n" | sed "s/^ *//" >depends &&
	grep -qx "quilt-swift (= $version)" depends &&
	for p in libc6 libcurl4 libssl3 zlib1g; do grep -q "^$p " depends || return 1; done &&
	! grep -v "^quilt-swift " depends | grep -i swift &&
	dpkg-deb -c "$deb" | awk "\$6 !~ /\/\$/ { print \$6 }" | sort >contents &&
	cat >expect <<-\EOF &&
	./usr/bin/quilt-serve
	./usr/share/bash-completion/completions/quilt-serve
	./usr/share/fish/vendor_completions.d/quilt-serve.fish
	./usr/share/zsh/vendor-completions/_quilt-serve
	EOF
	test_cmp expect contents &&
	dpkg-deb -x "$deb" extracted &&
	! readelf -S extracted/usr/bin/quilt-serve | grep -q "\.symtab\|\.debug_info" &&
	! readelf -d extracted/usr/bin/quilt-serve | grep -E "\((RUNPATH|RPATH)\)" &&
	echo "quilt-serve: $(stat -c %s extracted/usr/bin/quilt-serve) bytes; Installed-Size: $(dpkg-deb -f "$deb" Installed-Size) KiB"
'

test_expect_success DPKG 'the tarball, extracted over quilt-swift'"'"'s, puts quilt-serve beside quilt' '
	mkdir opt &&
	tar -C opt -xzf "$pkg/quilt-swift-$version-linux-$(uname -m).tar.gz" &&
	test ! -e "opt/quilt-swift-$version/bin/quilt-serve" &&
	cp -R opt alone &&
	tar -C opt -xzf "$tarball" &&
	test_line_count = 1 <(ls opt) &&
	test -x "opt/quilt-swift-$version/bin/quilt-serve" &&
	cmp extracted/usr/bin/quilt-serve "opt/quilt-swift-$version/bin/quilt-serve" &&
	test -s "opt/quilt-swift-$version/share/bash-completion/completions/quilt-serve"
'

test_expect_success DPKG,HIDDEN,CURL 'toolchain hidden: quilt serve runs the packaged quilt-serve: a page, a verified download, Ctrl-C' '
	bin=$TRASH/opt/quilt-swift-$version/bin &&
	mkdir -p data/sub && printf "a,b\n1,2\n" >data/sub/t.csv && echo hello >data/hi.txt &&
	hidden ldd "$bin/quilt-serve" >ldd.out && ! grep -e "not found" -e libswift -e libFoundation ldd.out &&
	hidden quilt-serve --version >out && echo "quilt-serve $version" >expect && test_cmp expect out &&
	hidden quilt serve --help >out && quilt serve --help >expect && test_cmp expect out &&
	hidden quilt build t/pkg data --registry "$TRASH/reg" >top &&
	hidden sh -c "
		test ! -e \"$toolchain/usr/bin/swift\" || exit 9
		quilt serve --port 0 --registry \"$TRASH/reg\" </dev/null 2>serve.log &
		pid=\$!
		for i in \$(seq 200); do grep -q \"^serving\" serve.log && break; sleep 0.05; done
		url=\$(sed -n \"s|^serving .* at \\(http://[^ ]*\\) .*|\\1|p\" serve.log)
		curl -sf \"\${url}reg/t/pkg/@latest/tree/sub/\" >page.html &&
		curl -sf \"\${url}reg/t/pkg/@latest/download/hi.txt\" >hi.out &&
		curl -s -o /dev/null -w \"%{http_code}\" -X POST \"\${url}reg/\" >post.code
		status=\$?
		kill -INT \$pid && wait \$pid && exit \$status
	" &&
	grep -q "t.csv" page.html && test_cmp data/hi.txt hi.out && test "$(cat post.code)" = 405 &&
	grep -q "^serving file://$TRASH/reg at http://127.0.0.1:" serve.log && grep -q "^stopped$" serve.log
'

test_expect_success DPKG,HIDDEN 'toolchain hidden, quilt-swift alone: quilt serve says quilt-serve is missing and what to install' '
	bin=$TRASH/alone/quilt-swift-$version/bin &&
	test_must_fail --exit=1 hidden quilt serve --port 0 2>err &&
	grep -q "^error: quilt serve runs the quilt-serve program" err &&
	grep -q "quilt-swift-serve" err
'

test_done
