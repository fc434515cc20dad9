#!/usr/bin/env bash
test_description='shell completion for quilt and every command and option: bash, zsh and fish scripts from one command tree'
. "$(dirname "$0")/lib.sh"

command -v zsh >/dev/null && test_set_prereq ZSH
command -v fish >/dev/null && test_set_prereq FISH

# bash_complete WORDS...: the candidates the bash completion function offers when the cursor ends the last word,
# as bash itself would call it on <TAB> (COMP_WORDS, COMP_CWORD, COMP_LINE, COMP_POINT; $1 command, $2 word, $3
# the word before).
bash_complete() {
	bash -c '
		source "$1"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}; COMPREPLY=()
		prev=; [ $# -gt 1 ] && prev=${COMP_WORDS[COMP_CWORD - 1]}
		_quilt "$1" "${COMP_WORDS[COMP_CWORD]}" "$prev"
		printf "%s\n" "${COMPREPLY[@]}"
	' bash quilt.bash "$@"
}

test_expect_success 'quilt --generate-completion-script bash|zsh|fish' '
	quilt --generate-completion-script bash >quilt.bash &&
	mkdir zfunc && quilt --generate-completion-script zsh >zfunc/_quilt &&
	quilt --generate-completion-script fish >quilt.fish &&
	test -s quilt.bash && test -s zfunc/_quilt && test -s quilt.fish
'

test_expect_success 'the bash script is valid and registers quilt' '
	bash -n quilt.bash &&
	bash -c "source quilt.bash && complete -p quilt" >out &&
	grep -q " -F _quilt quilt$" out
'

test_expect_success 'bash: quilt pu<TAB> offers push; quilt push --reg<TAB> offers --registry' '
	bash_complete quilt pu >out && grep -qx push out &&
	bash_complete quilt push --reg >out && grep -qx -- --registry out &&
	bash_complete quilt "" >out &&
	for c in build push log list show ls cat mount umount diff verify install status pull delete fsck gc rollback config cache login logout whoami bundle serve \
		hash-object write-manifest cat-manifest rev-parse update-ref show-ref upload-blob fetch-blob; do
		grep -qx $c out || return 1
	done
'

test_expect_success 'bash: quilt status and quilt pull offer their options' '
	bash_complete quilt status --po >out && grep -qx -- --porcelain out &&
	bash_complete quilt status --no >out && grep -qx -- --no-fetch out &&
	bash_complete quilt pull --fo >out && grep -qx -- --force out
'

test_expect_success 'bash: values: --copy modes, cache actions, config keys, help <command> names' '
	bash_complete quilt push --copy "" >out &&
	for v in default all local none; do grep -qx $v out || return 1; done &&
	bash_complete quilt cache "" >out &&
	for v in size list verify prune; do grep -qx $v out || return 1; done &&
	bash_complete quilt config "" >out &&
	for v in default_remote_registry navigator_url cache_max_size requests_timeout; do grep -qx $v out || return 1; done &&
	bash_complete quilt help "" >out &&
	for v in build push rollback hash-object; do grep -qx $v out || return 1; done &&
	bash_complete quilt help ro >out && test "$(cat out)" = rollback &&
	test $(grep -c "^_quilt_help() {" quilt.bash) = 1
'

test_expect_success 'bash: quilt mount and umount: their options, and directories for DIR' '
	bash_complete quilt mount --fo >out && grep -qx -- --foreground out &&
	bash_complete quilt umount --la >out && grep -qx -- --lazy out &&
	mkdir -p mnt-here/inner && >mnt-file &&
	bash_complete quilt umount mnt- >out && grep -q "^mnt-here" out && ! grep -q "^mnt-file" out &&
	bash_complete quilt mount ns/name mnt- >out && grep -q "^mnt-here" out && ! grep -q "^mnt-file" out
'

test_expect_success 'bash: quilt bundle <TAB> offers its subcommands, and their options' '
	bash_complete quilt bundle "" >out &&
	for c in create verify unbundle; do grep -qx $c out || return 1; done &&
	bash_complete quilt bundle create --le >out && grep -qx -- --level out &&
	bash_complete quilt bundle unbundle --na >out && grep -qx -- --name out
'

test_expect_success 'bash: options of plumbing commands under quilt' '
	bash_complete quilt hash-object --st >out && grep -qx -- --stdin-paths out &&
	bash_complete quilt update-ref --reg >out && grep -qx -- --registry out &&
	bash_complete quilt build --verb >out && grep -qx -- --verbose out
'

test_expect_success 'asked through a subcommand, the script is still the whole tree (was a function named "__quilt build_…")' '
	quilt build --generate-completion-script bash >build.bash && bash -n build.bash &&
	grep -q "^complete -o filenames -F _quilt quilt$" build.bash && ! grep -q "quilt build_" build.bash
'

test_expect_success 'a plumbing program generates its own script' '
	quilt-hash-object --generate-completion-script bash >qho.bash && bash -n qho.bash &&
	bash -c "source qho.bash && complete -p quilt-hash-object"
'

test_expect_success ZSH 'the zsh script is valid' 'zsh -n zfunc/_quilt'

test_expect_success ZSH 'zsh: quilt pu<TAB> offers push; quilt push --reg<TAB> offers --registry' '
	timeout 30 zsh -f "$REPO/Tests/t/zsh-complete.zsh" "$PWD/zfunc" quilt pu >out && grep -qx push out &&
	timeout 30 zsh -f "$REPO/Tests/t/zsh-complete.zsh" "$PWD/zfunc" quilt push --reg >out && grep -qx -- --registry out
'

test_expect_success ZSH 'zsh: quilt help ro<TAB> offers rollback; quilt push --copy <TAB> its modes' '
	timeout 30 zsh -f "$REPO/Tests/t/zsh-complete.zsh" "$PWD/zfunc" quilt help ro >out && grep -qx rollback out &&
	timeout 30 zsh -f "$REPO/Tests/t/zsh-complete.zsh" "$PWD/zfunc" quilt push --copy "" >out && grep -qx local out
'

test_expect_success FISH 'fish: quilt help <TAB> and quilt cache <TAB> offer their values' '
	fish -c "source quilt.fish; complete -C \"quilt help ro\"" >out && grep -q "^rollback" out &&
	fish -c "source quilt.fish; complete -C \"quilt cache \"" >out && grep -q "^prune" out
'

test_expect_success FISH 'fish: the script is valid and completes quilt pu and --reg' '
	fish --no-execute quilt.fish &&
	fish -c "source quilt.fish; complete -C \"quilt pu\"" >out && grep -q "^push	" out &&
	fish -c "source quilt.fish; complete -C \"quilt push --reg\"" >out && grep -q "^--registry	" out
'

test_done
