#!/usr/bin/env bash
test_description='on a terminal: progress while hashing, delete asks first; in pipes and with --json: silence'
. "$(dirname "$0")/lib.sh"

# on_tty CMD: runs CMD with a pseudo-terminal as stdin, stdout and stderr (util-linux script); the session's output,
# both streams, lands in tty.out. Input for prompts comes from tty.in.
on_tty() {
	: >>tty.in
	QUILT_MINIMIZE_STDOUT=false script -qec "$*" /dev/null <tty.in >tty.out 2>&1
}

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

test_expect_success 'delete does not ask when stdin is not a terminal' '
	quilt build ns/q d >/dev/null && quilt delete ns/q </dev/null && test -z "$(quilt list)"
'

test_done
