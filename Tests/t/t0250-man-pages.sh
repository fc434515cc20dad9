#!/usr/bin/env bash
test_description='man pages generated from Documentation/*.md: one per program, command and format page; man renders each without warnings, and each names every long option of its --help'
. "$(dirname "$0")/lib.sh"

command -v man >/dev/null && command -v groff >/dev/null && test_set_prereq MAN

porcelain="build push log list show ls cat mount umount diff verify install status pull delete fsck gc rollback config cache login logout whoami bundle serve"
plumbing="hash-object write-manifest cat-manifest rev-parse update-ref show-ref upload-blob fetch-blob"

# long_options CMD...: the --long options the OPTIONS list of CMD --help declares, --help aside.
long_options() {
	"$@" --help | sed -n '/^OPTIONS:/,$p' | grep -oE '^ +(-[A-Za-z], )?--[a-z][a-z0-9-]*' |
	grep -oE -- '--[a-z][a-z0-9-]*' | grep -vx -- --help
}

# render PAGE: the page as man shows it, as plain text (overstrikes removed; any Unicode hyphen or minus as -).
render() {
	MANWIDTH=100 man -l "$1" 2>/dev/null | col -b | sed "s/\xe2\x80\x90/-/g; s/\xe2\x88\x92/-/g"
}

test_expect_success 'scripts/man writes every page' '
	"$REPO/scripts/man" --out man >written &&
	for page in man1/quilt.1 man5/manifest-format.5 man5/registry-layout.5 man7/guarantees.7 man7/workflows.7 \
		man7/glossary.7 man7/batch-publishing.7 man7/sharded-publishing.7; do test -s man/$page || return 1; done &&
	for c in $porcelain $plumbing; do test -s man/man1/quilt-$c.1 || return 1; done &&
	test $(ls man/man1 | wc -l) -eq $(($(echo $porcelain $plumbing | wc -w) + 1)) &&
	! LC_ALL=C grep -l "$(printf "[^\t -~]")" man/man*/*
'

test_expect_success 'every built program has a page' '
	for program in "$QUILT_BUILD_DIR"/quilt "$QUILT_BUILD_DIR"/quilt-*; do
		case $program in *.*) continue ;; esac
		test -x "$program" && test -f "$program" || continue
		test -s "man/man1/$(basename "$program").1" || { echo "no page for $program" >&2; return 1; }
	done
'

test_expect_success MAN 'man renders every page without a warning' '
	for page in man/man*/*; do
		MANWIDTH=80 man --warnings -l "$page" 2>warnings >/dev/null &&
		test ! -s warnings || { echo "$page:"; cat warnings; return 1; }
		render "$page" >text && grep -q "^NAME" text && grep -q "^SYNOPSIS\|^DESCRIPTION" text || return 1
	done
'

test_expect_success MAN 'NAME lines are whatis entries: name - description' '
	render man/man1/quilt-push.1 | sed -n "/^NAME/{n;p}" >name &&
	grep -q "^ *quilt-push - copy data to S3" name
'

test_expect_success MAN 'every long option of each command'"'"'s --help appears in its page' '
	for c in $porcelain; do
		render man/man1/quilt-$c.1 >text &&
		for option in $(long_options quilt $c); do
			grep -qE -- "(^|[^a-z0-9-])$option([^a-z0-9-]|$)" text ||
			{ echo "quilt-$c.1 does not mention $option" >&2; return 1; }
		done || return 1
	done &&
	for c in $plumbing; do
		render man/man1/quilt-$c.1 >text &&
		for option in $(long_options quilt-$c); do
			grep -qE -- "(^|[^a-z0-9-])$option([^a-z0-9-]|$)" text ||
			{ echo "quilt-$c.1 does not mention $option" >&2; return 1; }
		done || return 1
	done &&
	long_options quilt build | grep -qx -- --registry
'

test_expect_success 'the converter: definition lists, code blocks, tables, escapes' '
	cat >page.md <<-\EOF &&
	# demo(7)

	## NAME

	demo - a page with every construct

	## DESCRIPTION

	Text with `--code`, **bold**, a reference quilt-push(1) and a dash - here; an arrow → and "quotes".

	`--term <x>`
	: The definition,
	  continued.

	- a bullet
	  continued
	1. a number

	```sh
	.starts with a dot
	back\slash and it'"'"'s
	```

	| a | b | c |
	|---|---|---|
	| x | y | z |
	EOF
	"$REPO/scripts/man" --out out page.md >/dev/null && r=out/man7/demo.7 &&
	grep -q "^\.TH \"DEMO\" \"7\"" $r && grep -q "^\.TP$" $r &&
	grep -qF "\\fB\\-\\-term <x>\\fR" $r && grep -qF "The definition, continued." $r &&
	grep -qF "\\[u2192]" $r && grep -qF "\\&.starts with a dot" $r && grep -qF "back\\eslash and it\\(aqs" $r &&
	grep -qF "\\fBquilt\\-push\\fR(1)" $r && grep -qF "c: z" $r
'

test_done
