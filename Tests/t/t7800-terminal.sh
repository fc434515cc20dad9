#!/usr/bin/env bash
test_description='on a terminal: progress while hashing (redrawn, or plain lines on a dumb or non-UTF-8 terminal), delete asks first; in pipes, with --json and with -q: silence'
. "$(dirname "$0")/lib.sh"

test_expect_success 'setup' '
	command -v script >/dev/null || { echo "script(1) is needed" >&2; exit 1; }
	mkdir d && for i in $(seq 1 50); do make_file d/f$i 200000 || return 1; done
'

test_expect_success 'a build on a terminal shows hashing progress on stderr' '
	on_tty quilt build ns/p d &&
	grep -q "hashing: [0-9]*/50 files" tty.out
'

test_expect_success 'not in a pipe, not with --json, not with QUILT_MINIMIZE_STDOUT=true' '
	QUILT_MINIMIZE_STDOUT=false quilt build ns/p d >out 2>err && test ! -s err &&
	on_tty quilt build ns/p d --json && ! grep -q "hashing:" tty.out &&
	QUILT_MINIMIZE_STDOUT=true script -qec "quilt build ns/p d" /dev/null </dev/null >tty2.out 2>&1 &&
	! grep -q "hashing:" tty2.out
'

test_expect_success 'a capable terminal gets the line redrawn in place' '
	TERM=xterm on_tty quilt build ns/p d &&
	grep -q "$(printf "\r")hashing: " tty.out && grep -q "$(printf "\033")\[K" tty.out
'

# A plain line has neither a carriage return before the text nor an escape sequence; at most one a second, so a
# build of under a second shows only its last.
test_expect_success 'TERM=dumb, or no TERM: plain lines, no carriage returns or escapes' '
	for term in dumb ""; do
		TERM=$term on_tty quilt build ns/p d &&
		grep -q "^hashing: 50/50 files" tty.out &&
		! grep -q "$(printf "\033")" tty.out && ! grep -q "$(printf "\r")hashing" tty.out &&
		test $(grep -c "hashing:" tty.out) -le 3 || return 1
	done
'

test_expect_success 'a locale that is not UTF-8 gets plain lines too' '
	TERM=xterm LC_ALL=C LANG=C on_tty quilt build ns/p d &&
	grep -q "^hashing: 50/50 files" tty.out && ! grep -q "$(printf "\033")" tty.out &&
	TERM=xterm LC_ALL= LC_CTYPE= LANG=en_US.ISO-8859-1 on_tty quilt build ns/p d &&
	grep -q "^hashing: 50/50 files" tty.out && ! grep -q "$(printf "\033")" tty.out
'

test_expect_success '-q on a terminal: no progress and no notes, the top hash still printed' '
	h=$(quilt build ns/p d) &&
	on_tty quilt build ns/p d -q &&
	! grep -q "hashing:" tty.out && grep -q "$h" tty.out &&
	on_tty quilt build ns/p d --check --quiet && ! grep -q "check passed" tty.out &&
	on_tty quilt build ns/p d --check && grep -q "check passed" tty.out &&
	mkdir copy && on_tty quilt install ns/p --dest copy/x -q && ! grep -q "Installed" tty.out &&
	on_tty quilt verify ns/p --dir copy/x -q && test ! -s tty.out &&
	on_tty quilt verify ns/p --dir copy/x && grep -q "Verification succeeded" tty.out
'

test_expect_success 'delete asks on a terminal; no keeps the package' '
	echo n >tty.in &&
	test_must_fail on_tty quilt delete ns/p &&
	grep -q "Delete package ns/p" tty.out &&
	test "$(quilt list)" = ns/p
'

test_expect_success 'delete asks on a terminal; yes deletes' '
	echo y >tty.in &&
	on_tty quilt delete ns/p &&
	test -z "$(quilt list)"
'

test_expect_success 'delete --yes -q on a terminal says nothing' '
	: >tty.in && quilt build ns/r d >/dev/null &&
	on_tty quilt delete ns/r --yes -q && test ! -s tty.out &&
	: >tty.in && quilt build ns/r d >/dev/null &&
	on_tty quilt delete ns/r --yes && grep -q "Deleted 2 pointers of ns/r" tty.out
'

test_expect_success 'delete with stdin not a terminal deletes only with --yes (exit 64 otherwise)' '
	quilt build ns/q d >/dev/null &&
	test_must_fail --exit=64 quilt delete ns/q </dev/null 2>err && grep -q "^hint: .*--yes" err &&
	echo y | test_must_fail --exit=64 quilt delete ns/q && test "$(quilt list)" = ns/q &&
	quilt delete ns/q --yes </dev/null && test -z "$(quilt list)"
'

test_done
