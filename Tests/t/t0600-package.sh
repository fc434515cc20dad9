#!/usr/bin/env bash
test_description='scripts/package: the .deb installs with dpkg -i and its programs run with the Swift toolchain hidden (--version, every --help, build, show, a push to moto that quilt3 installs); no program loads anything from the toolchain; one binary under nine names, within 60 MiB installed; the tarball is the same tree and runs in place; dpkg -r removes it all'
. "$(dirname "$0")/lib.sh"

programs="quilt quilt-hash-object quilt-write-manifest quilt-cat-manifest quilt-rev-parse quilt-update-ref quilt-show-ref
	quilt-upload-blob quilt-fetch-blob"
porcelain="build push log list show diff verify install delete config cache login logout whoami bundle"
bucket=package-$$-$RANDOM

toolchain_hiding

# The package: the one scripts/test made for this run (QUILT_TEST_PACKAGE_DIR), or one made here.
pkg=${QUILT_TEST_PACKAGE_DIR:-}
command -v dpkg-deb >/dev/null && test_set_prereq DPKG

test_expect_success DPKG 'scripts/package makes a .deb and a tarball' '
	if [ -z "$pkg" ]; then "$REPO/scripts/package" --out "$TRASH/pkg" -q && pkg=$TRASH/pkg; fi &&
	version=$(quilt --version | sed "s/^quilt //") &&
	deb=$pkg/quilt-swift_${version}_$(dpkg --print-architecture).deb &&
	tarball=$pkg/quilt-swift-$version-linux-$(uname -m).tar.gz &&
	test -s "$deb" && test -s "$tarball" &&
	test "$(dpkg-deb -f "$deb" Package)" = quilt-swift &&
	test "$(dpkg-deb -f "$deb" Version)" = "$version" &&
	test "$(dpkg-deb -f "$deb" Architecture)" = "$(dpkg --print-architecture)" &&
	dpkg-deb -f "$deb" Depends | tr "," "\n" | sed "s/^ *//; s/ .*//" | sort >depends &&
	for p in libc6 libcurl4 libssl3 zlib1g; do grep -qx "$p" depends || return 1; done &&
	! grep -i swift depends &&
	# Every glibc version the binary needs is within the libc6 it depends on (GLIBC_ABI_DT_RELR: 2.36).
	dpkg-deb --fsys-tarfile "$deb" | tar -xOf - ./usr/bin/quilt >quilt.bin &&
	libc=$(dpkg-deb -f "$deb" Depends | tr "," "\n" | sed -n "s/^ *libc6 (>= \(.*\))$/\1/p") &&
	need=$(readelf -V quilt.bin | grep -o "GLIBC_2\.[0-9.]*" | sed "s/GLIBC_//" | sort -uV | tail -n 1) &&
	if readelf -V quilt.bin | grep -q GLIBC_ABI_DT_RELR; then need=$(printf "%s\n" "$need" 2.36 | sort -V | tail -n 1); fi &&
	echo "libc6 >= $libc; the binary needs $need" &&
	dpkg --compare-versions "$libc" ge "$need"
'

test_expect_success DPKG 'the .deb: one binary, a hard link to it per plumbing program, every page and completion' '
	dpkg-deb -c "$deb" >contents &&
	grep -q " \./usr/bin/quilt$" contents &&
	for p in $programs; do
		test "$p" = quilt || grep -q " \./usr/bin/$p link to \./usr/bin/quilt$" contents || return 1
		grep -q " \./usr/share/bash-completion/completions/$p$" contents &&
		grep -q " \./usr/share/zsh/vendor-completions/_$p$" contents &&
		grep -q " \./usr/share/fish/vendor_completions.d/$p.fish$" contents || return 1
	done &&
	pages=$(head -qn1 "$REPO"/Documentation/*.md | grep -cx "# [a-z][a-z0-9-]*([1-8])") &&
	test "$(grep -c " \./usr/share/man/man[1-8]/[a-z0-9-]*\.[1-8]\.gz$" contents)" = "$pages" &&
	! grep -q "install-manifest" contents
'

test_expect_success DPKG 'installed size within 60 MiB (du --apparent-size and Installed-Size), the binary stripped' '
	dpkg-deb -x "$deb" extracted &&
	bytes=$(du -s -b --apparent-size extracted | cut -f1) &&
	kib=$(dpkg-deb -f "$deb" Installed-Size) &&
	echo "installed: $bytes bytes; Installed-Size: $kib KiB; binary: $(stat -c %s extracted/usr/bin/quilt) bytes" &&
	test "$bytes" -le $((60 * 1024 * 1024)) && test "$kib" -le $((60 * 1024)) &&
	test "$(stat -c %h extracted/usr/bin/quilt)" = "$(echo $programs | wc -w)" &&
	! readelf -S extracted/usr/bin/quilt | grep -q "\.symtab\|\.debug_info"
'

test_expect_success DPKG 'the tarball is the same tree, under quilt-swift-VERSION/' '
	mkdir opt && tar -C opt -xzf "$tarball" &&
	test_line_count = 1 <(ls opt) && test -d "opt/quilt-swift-$version/bin" &&
	diff -r extracted/usr "opt/quilt-swift-$version" &&
	test "$(stat -c %h "opt/quilt-swift-$version/bin/quilt-rev-parse")" = "$(echo $programs | wc -w)"
'

# Installing: dpkg -i as root, when no quilt-swift is installed already (one installed by someone else is left
# alone), one test file at a time (a lock, for developers sharing a machine), removed by the last test or on exit.
# Otherwise (or with QUILT_TEST_NO_DPKG_INSTALL=1) dpkg -x into the trash directory, with the dependency check
# dpkg -i makes done by hand.
installed_here=false
remove_package() {
	$installed_here || return 0
	dpkg -r quilt-swift >/dev/null 2>&1 && installed_here=false
	exec 9>&-
}
trap remove_package EXIT
trap 'exit 143' TERM INT
# dpkg_retry ARGS...: dpkg, waiting for the lock another package manager holds (up to two minutes).
dpkg_retry() {
	local n
	for n in $(seq 60); do
		dpkg "$@" >dpkg.out 2>&1 && return 0
		grep -qi "lock" dpkg.out || { cat dpkg.out; return 1; }
		sleep 2
	done
	cat dpkg.out; return 1
}
mode=extract
if [ "${QUILT_TEST_NO_DPKG_INSTALL:-}" = 1 ]; then
	echo "# QUILT_TEST_NO_DPKG_INSTALL=1: dpkg -x into the trash directory, and the dependency check by hand"
elif [ "$(id -u)" = 0 ] && command -v dpkg >/dev/null; then
	if dpkg-query -W -f='${Status}' quilt-swift 2>/dev/null | grep -q "ok installed"; then
		echo "# quilt-swift is installed on this machine already: not replaced; dpkg -x into the trash directory instead"
	else
		mode=dpkg
	fi
else
	echo "# not root: dpkg -x into the trash directory, and the dependency check by hand"
fi
[ $mode = dpkg ] && test_set_prereq DPKG_INSTALL

test_expect_success DPKG 'install the .deb (dpkg -i as root; else dpkg -x and its dependency check)' '
	if [ $mode = dpkg ]; then
		exec 9>/run/lock/quilt-swift-package-test.lock && flock -w 900 9 &&
		! dpkg-query -W -f="\${Status}" quilt-swift 2>/dev/null | grep -q "ok installed" &&
		installed_here=true && dpkg_retry -i "$deb" &&
		dpkg-query -W -f="\${Status} \${Version}\n" quilt-swift >status &&
		echo "install ok installed $version" >expect && test_cmp expect status &&
		bin=/usr/bin prefix=/usr
	else
		dpkg-deb -f "$deb" Depends | tr "," "\n" | sed "s/^ *//" >deps &&
		while read -r name op want; do
			have=$(dpkg-query -W -f="\${Version}" "$name") &&
			{ [ -z "$op" ] || dpkg --compare-versions "$have" "${op#(}" "${want%)}"; } ||
			{ echo "unmet dependency: $name $op $want (have ${have:-none})"; return 1; }
		done <deps &&
		dpkg-deb -x "$deb" root && bin=$TRASH/root/usr/bin prefix=$TRASH/root/usr
	fi &&
	for p in $programs; do test -x "$bin/$p" || return 1; done
'

# libcurl is not among them: it is loaded at the first request (the push to moto below makes one).
test_expect_success DPKG 'ldd: every program loads system libraries only, nothing from the toolchain, and not libcurl' '
	for p in $programs; do
		ldd "$bin/$p" >ldd.out &&
		! grep -e "not found" -e "${toolchain:-/no-toolchain}" -e "libswift" -e "libFoundation" -e "libdispatch" ldd.out &&
		grep -q "libcrypto.so.3 => /" ldd.out && ! grep -q "libcurl" ldd.out || { cat ldd.out; return 1; }
	done
'

test_expect_success HIDDEN 'the toolchain is hidden: the development build does not start there (the control)' '
	hidden sh -c "test ! -e \"$toolchain/usr/bin/swift\"" &&
	! hidden "$QUILT_BUILD_DIR/quilt" --version 2>err &&
	grep -q "error while loading shared libraries" err &&
	"$QUILT_BUILD_DIR/quilt" --version
'

test_expect_success DPKG,HIDDEN 'toolchain hidden: ldd again, and every program'"'"'s --version' '
	for p in $programs; do
		hidden ldd "$bin/$p" >ldd.out && ! grep -q "not found" ldd.out || { cat ldd.out; return 1; }
		hidden "$p" --version >out &&
		echo "$p $version" >expect && test_cmp expect out || return 1
	done
'

test_expect_success DPKG,HIDDEN 'toolchain hidden: every program'"'"'s --help, and each command'"'"'s, as the development build prints them' '
	for p in $programs; do
		hidden "$p" --help >out && "$p" --help >expect && test_cmp expect out || return 1
	done &&
	for c in $porcelain; do
		hidden quilt $c --help >out && quilt $c --help >expect && test_cmp expect out || return 1
	done &&
	hidden quilt help >out && grep -q "^   hash-object " out
'

test_expect_success DPKG,HIDDEN 'toolchain hidden: build and show, the same top hash as the development build' '
	make_tree data &&
	quilt build dev/pkg data --registry devreg --message "from the package" --meta "{\"n\": 1}" >devtop &&
	hidden quilt build t/pkg data --message "from the package" --meta "{\"n\": 1}" >top &&
	test_cmp devtop top &&
	hidden quilt show t/pkg >show && grep -q "c/big.bin" show && grep -q "sp ace/é/x+%.txt" show &&
	hidden quilt-rev-parse t/pkg >rev && test_cmp top rev &&
	(cd data && find . -type f | hidden quilt-hash-object --stdin-paths --entries) |
		hidden quilt-write-manifest --message "from the package" --meta "{\"n\": 1}" --registry plumbreg >ptop &&
	test_cmp top ptop
'

test_expect_success DPKG,HIDDEN,S3,QUILT3 'toolchain hidden: a push to moto, which quilt3 then installs and verifies' '
	s3_make_bucket "$bucket" --versioned &&
	hidden quilt push t/pkg data --registry "s3://$bucket" --message "from the package" --meta "{\"n\": 1}" >pushtop &&
	test_cmp top pushtop &&
	quilt3_py - "s3://$bucket" "$(cat top)" "$TRASH/data" <<-\PY &&
	import sys, quilt3
	quilt3.Package.install("t/pkg", registry=sys.argv[1], dest="q3copy")
	p = quilt3.Package.browse("t/pkg", registry=sys.argv[1])
	assert p.top_hash == sys.argv[2], p.top_hash
	assert p.verify(sys.argv[3])
	PY
	diff -r data q3copy
'

command -v man >/dev/null && command -v groff >/dev/null && test_set_prereq MAN
test_expect_success DPKG,MAN 'man finds the installed pages, gzipped' '
	MANPATH="$prefix/share/man" man -w quilt-push >out &&
	echo "$prefix/share/man/man1/quilt-push.1.gz" >expect && test_cmp expect out &&
	MANWIDTH=80 man -l "$prefix/share/man/man7/sharded-publishing.7.gz" 2>/dev/null | col -b | grep -q "^NAME"
'

test_expect_success DPKG_INSTALL 'the shells find the completions where Debian looks: bash-completion, zsh vendor-completions, fish' '
	bash -c "source /usr/share/bash-completion/bash_completion && __load_completion quilt && complete -p quilt" >out &&
	grep -q " -F _quilt quilt$" out &&
	if command -v zsh >/dev/null; then zsh -fc "print -l \$fpath" | grep -qx /usr/share/zsh/vendor-completions; fi &&
	if command -v fish >/dev/null; then fish -c "complete -C \"quilt pu\"" | grep -q "^push	"; fi
'

test_expect_success DPKG,HIDDEN 'the tarball runs in place, toolchain hidden; man finds its pages from PATH' '
	bin=$TRASH/opt/quilt-swift-$version/bin &&
	hidden quilt-rev-parse --version >out && echo "quilt-rev-parse $version" >expect && test_cmp expect out &&
	hidden quilt-rev-parse t/pkg >rev && test_cmp top rev &&
	if test_have_prereq MAN; then
		(unset MANPATH; PATH="$bin:$PATH" man -w quilt-push) >out &&
		echo "$TRASH/opt/quilt-swift-$version/share/man/man1/quilt-push.1.gz" >expect && test_cmp expect out
	fi
'

test_expect_success DPKG_INSTALL 'dpkg -r removes every file it installed' '
	dpkg-deb -c "$deb" | awk "\$6 !~ /\/\$/ { print substr(\$6, 2) }" >files &&
	test "$(wc -l <files)" -gt 40 &&
	while read -r f; do test -e "$f" || { echo "missing before removal: $f"; return 1; }; done <files &&
	dpkg_retry -r quilt-swift && installed_here=false && exec 9>&- &&
	while read -r f; do test ! -e "$f" || { echo "left after removal: $f"; return 1; }; done <files &&
	! dpkg-query -W -f="\${Status}" quilt-swift 2>/dev/null | grep -q "ok installed"
'

test_done
