#!/usr/bin/env bash
test_description='the fuzz stage: the built programs on generated hostile inputs (bundle tar and gzip headers, manifests and entry streams with sizes near the 64-bit limits, shard trailers, YAML configs, option and setting values), from a fixed seed, bounded in count and time: no signal, no run over 10 s, peak RSS under 400 MB'
. "$(dirname "$0")/lib.sh"

test_expect_success 'seed 26: every run ends by itself, with an exit status, within its time and memory' '
	mkdir work &&
	"$QUILT_TEST_PYTHON" "$REPO/Tests/t/fuzz-programs.py" "$TRASH/work" --seed 26 >report; rc=$?
	cat report && test $rc = 0 && grep -q "^fuzz: [0-9]* runs .*: 0 broke a bound" report
'

test_done
