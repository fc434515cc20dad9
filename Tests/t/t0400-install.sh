#!/usr/bin/env bash
test_description='scripts/install into a prefix: programs, man pages man finds, completions bash, zsh and fish load; scripts/uninstall removes exactly that'
. "$(dirname "$0")/lib.sh"

command -v man >/dev/null && command -v groff >/dev/null && test_set_prereq MAN
command -v zsh >/dev/null && test_set_prereq ZSH
command -v fish >/dev/null && test_set_prereq FISH
[ -f /usr/share/bash-completion/bash_completion ] && test_set_prereq BASH_COMPLETION

prefix=$TRASH/prefix
programs="quilt quilt-hash-object quilt-write-manifest quilt-cat-manifest quilt-rev-parse quilt-update-ref quilt-show-ref
	quilt-upload-blob quilt-fetch-blob"

# bash_complete SCRIPT WORDS...: the candidates SCRIPT's completion function offers when the cursor ends the last
# word, called as bash calls it on <TAB>.
bash_complete() {
	bash -c '
		source "$1"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}; COMPREPLY=()
		prev=; [ $# -gt 1 ] && prev=${COMP_WORDS[COMP_CWORD - 1]}
		func=$(complete -p "$1" | sed -n "s/.* -F \([^ ]*\) .*/\1/p")
		"$func" "$1" "${COMP_WORDS[COMP_CWORD]}" "$prev"
		printf "%s\n" "${COMPREPLY[@]}"
	' bash "$@"
}

test_expect_success 'scripts/install --prefix (a debug build) installs every program, page and completion' '
	"$REPO/scripts/install" --prefix "$prefix" --build-dir "$QUILT_BUILD_DIR" >out &&
	pages=$(head -qn1 "$REPO"/Documentation/*.md | grep -cx "# [a-z][a-z0-9-]*([1-8])") &&
	grep -q "^installed $(echo $programs | wc -w) programs, $pages man pages and completions under $prefix" out &&
	for p in $programs; do
		test -x "$prefix/bin/$p" &&
		test -s "$prefix/share/bash-completion/completions/$p" &&
		test -s "$prefix/share/zsh/site-functions/_$p" &&
		test -s "$prefix/share/fish/vendor_completions.d/$p.fish" || return 1
	done &&
	# One binary: each plumbing program is a hard link to quilt, and runs as the program its name says.
	test "$(stat -c %h "$prefix/bin/quilt")" = "$(echo $programs | wc -w)" &&
	"$prefix/bin/quilt-hash-object" --version >out && echo "quilt-hash-object 0.1.0" >expect && test_cmp expect out &&
	test -s "$prefix/share/man/man1/quilt-push.1" && test -s "$prefix/share/man/man5/manifest-format.5" &&
	test -s "$prefix/share/man/man7/workflows.7"
'

test_expect_success 'the manifest lists every file installed, and only those' '
	find "$prefix" -type f | sort >files &&
	grep -v "/$" "$prefix/share/quilt-swift/install-manifest" | sort >listed &&
	test_cmp files listed
'

test_expect_success MAN 'man finds the pages: with MANPATH, and from PATH alone' '
	MANPATH="$prefix/share/man" man -w quilt-push >out &&
	echo "$prefix/share/man/man1/quilt-push.1" >expect && test_cmp expect out &&
	MANPATH="$prefix/share/man" man -w 5 manifest-format >out && grep -q "/man5/manifest-format.5$" out &&
	(unset MANPATH; PATH="$prefix/bin:$PATH" man -w quilt-push) >out && test_cmp expect out &&
	MANPATH="$prefix/share/man" MANWIDTH=80 man quilt-push 2>/dev/null | col -b | grep -q "quilt-push - copy data to S3"
'

test_expect_success 'bash: the script loads, and quilt pu<TAB> --reg<TAB> complete' '
	bash -c "source \"$prefix/share/bash-completion/completions/quilt\"; complete -p quilt" >out &&
	grep -q " -F _quilt quilt$" out &&
	bash_complete "$prefix/share/bash-completion/completions/quilt" quilt pu >out && grep -qx push out &&
	bash_complete "$prefix/share/bash-completion/completions/quilt" quilt push --reg >out && grep -qx -- --registry out &&
	bash_complete "$prefix/share/bash-completion/completions/quilt-hash-object" quilt-hash-object --std >out &&
	grep -qx -- --stdin-paths out
'

test_expect_success BASH_COMPLETION 'bash-completion loads it on demand from a prefix at XDG_DATA_HOME'"'"'s parent' '
	XDG_DATA_HOME="$prefix/share" bash -c "
		source /usr/share/bash-completion/bash_completion && __load_completion quilt && complete -p quilt" >out &&
	grep -q " -F _quilt quilt$" out
'

test_expect_success ZSH 'zsh: with the prefix'"'"'s site-functions on fpath, quilt pu<TAB> --reg<TAB> complete' '
	PATH="$prefix/bin:$PATH" timeout 30 zsh -f "$REPO/Tests/t/zsh-complete.zsh" "$prefix/share/zsh/site-functions" \
		quilt pu >out && grep -qx push out &&
	PATH="$prefix/bin:$PATH" timeout 30 zsh -f "$REPO/Tests/t/zsh-complete.zsh" "$prefix/share/zsh/site-functions" \
		quilt push --reg >out && grep -qx -- --registry out
'

test_expect_success FISH 'fish: vendor_completions.d autoloads; quilt pu and --reg complete' '
	PATH="$prefix/bin:$PATH" fish -c "set -p fish_complete_path $prefix/share/fish/vendor_completions.d
		complete -C \"quilt pu\"; complete -C \"quilt push --reg\"" >out &&
	grep -q "^push	" out && grep -q "^--registry	" out
'

test_expect_success 'installing again keeps one manifest' '
	cp "$prefix/share/quilt-swift/install-manifest" before &&
	"$REPO/scripts/install" --prefix "$prefix" --build-dir "$QUILT_BUILD_DIR" -q &&
	test_cmp before "$prefix/share/quilt-swift/install-manifest"
'

test_expect_success 'scripts/uninstall removes exactly what was installed' '
	echo mine >"$prefix/bin/not-ours" && mkdir -p "$prefix/share/man/man3" &&
	files=$(($(grep -cv "/$" "$prefix/share/quilt-swift/install-manifest") - 1)) &&  # the manifest lists itself
	"$REPO/scripts/uninstall" --prefix "$prefix" >out && grep -q "^removed $files files from $prefix" out &&
	(cd "$prefix" && find . -mindepth 1 | sort) >left &&
	printf "%s\n" ./bin ./bin/not-ours ./share ./share/man ./share/man/man3 >expect && test_cmp expect left &&
	test_must_fail "$REPO/scripts/uninstall" --prefix "$prefix" 2>err && grep -q "nothing installed" err
'

test_expect_success 'usage errors' '
	test_must_fail --exit=64 "$REPO/scripts/install" --bogus 2>err && grep -q "^usage: scripts/install" err &&
	test_must_fail --exit=64 "$REPO/scripts/uninstall" --prefix 2>err
'

test_done
