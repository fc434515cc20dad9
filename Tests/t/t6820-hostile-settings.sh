#!/usr/bin/env bash
test_description='hostile settings and names: a YAML alias bomb as the workflows config (and as config.yml) refused at once, a nesting error with its reason; option and setting numbers out of range are usage errors (64), never a trap; file names of 244 to 255 bytes build and install (quilt3 installs them too); a catalog that echoes the code it refused never gets it printed; quilt login on a terminal; shard and physical-key messages that say what is wrong'
. "$(dirname "$0")/lib.sh"

trap stub_catalog_stop EXIT

# timed CMD...: runs CMD (output to out and err) and fails if it takes 2 s or more; its exit status goes to rc.
timed() {
	"$QUILT_TEST_PYTHON" - "$@" <<-\PY
	import subprocess, sys, time
	start = time.monotonic()
	with open("out", "wb") as out, open("err", "wb") as err:
	    try:
	        rc = subprocess.run(sys.argv[1:], stdout=out, stderr=err, timeout=10).returncode
	    except subprocess.TimeoutExpired:
	        sys.exit("timed: over 10 s")
	took = time.monotonic() - start
	open("rc", "w").write("%d\n" % (rc if rc >= 0 else 128 - rc))
	print("%s: exit %d in %.2f s" % (sys.argv[1:3], rc, took), file=sys.stderr)
	sys.exit("timed: %.2f s" % took if took >= 2 else 0)
	PY
}

# bomb FILE: the classic alias bomb (nine levels of nine aliases: 387,420,489 strings from about 400 bytes).
bomb() {
	"$QUILT_TEST_PYTHON" - "$1" <<-\PY
	import sys
	lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
	for prev, name in zip("abcdefgh", "bcdefghi"):
	    lines.append("%s: &%s [%s]" % (name, name, ",".join(["*" + prev] * 9)))
	lines.append("version: '1'")
	open(sys.argv[1], "w").write("\n".join(lines) + "\n")
	PY
}

test_expect_success 'setup: a small tree, a registry whose workflows config is an alias bomb' '
	mkdir -p data && echo hello >data/a.txt &&
	mkdir -p bombreg/.quilt/workflows && bomb bombreg/.quilt/workflows/config.yml &&
	test "$(wc -c <bombreg/.quilt/workflows/config.yml)" -lt 500
'

test_expect_success 'build and write-manifest refuse the bomb (65) in well under a second' '
	timed quilt build t/pkg data --registry bombreg && test "$(cat rc)" = 65 &&
	grep -q "^error: invalid workflows config .*: its aliases expand to too many values" err &&
	quilt-hash-object --entries --root data data/a.txt >entries &&
	timed sh -c "quilt-write-manifest --registry bombreg --name t/pkg <entries" && test "$(cat rc)" = 65 &&
	test ! -e bombreg/.quilt/packages
'

test_expect_success QUILT3 'quilt3 refuses that config too (it is no valid config)' '
	quilt3_py - "$TRASH/bombreg" "$TRASH/data" <<-\PY
	import sys, quilt3
	p = quilt3.Package().set_dir(".", sys.argv[2])
	try:
	    p.build("t/pkg", registry="file://" + sys.argv[1])
	except Exception as e:
	    print("refused:", type(e).__name__)
	else:
	    sys.exit("quilt3 built it")
	PY
'

test_expect_success 'a config.yml that is an alias bomb is refused at once too, naming the file' '
	mkdir -p .local/share/Quilt && bomb .local/share/Quilt/config.yml &&
	timed quilt config; ok=$?; rm .local/share/Quilt/config.yml &&
	test $ok = 0 && test "$(cat rc)" = 65 && grep -q "config.yml.*aliases expand to too many values" err
'

test_expect_success 'a YAML nesting error says why, and where' '
	mkdir -p deepreg/.quilt/workflows &&
	"$QUILT_TEST_PYTHON" -c "print(\"a: \" + \"[\" * 2000 + \"1\" + \"]\" * 2000)" >deepreg/.quilt/workflows/config.yml &&
	test_must_fail --exit=65 quilt build t/pkg data --registry deepreg 2>err &&
	grep -q "not YAML: line 1, column [0-9]*: nested more than 1000 levels deep" err &&
	printf "version: \"1\"\nworkflows: {}\nx: [1, 2\n" >deepreg/.quilt/workflows/config.yml &&
	test_must_fail --exit=65 quilt build t/pkg data --registry deepreg 2>err &&
	grep -q "not YAML: line 4, column 1: did not find expected .,. or .\]. (while parsing a flow sequence at line 3, column 4)" err
'

test_expect_success 'option and setting numbers out of range: exit 64 with the value named, never a trap' '
	for v in 1e15 1e300 inf nan -1 -0.5 abc; do
		test_must_fail --exit=64 quilt cache prune --older-than "$v" 2>err &&
		grep -q "not a number of days" err || { echo "--older-than $v"; return 1; }
	done &&
	quilt cache prune --older-than 1e6 >/dev/null &&
	for v in 99999999999999999999T -1 1e3G; do
		test_must_fail --exit=64 quilt cache prune --max-size "$v" 2>err || { echo "--max-size $v"; return 1; }
	done &&
	for s in 1e300 inf 1e10 -1 0; do
		test_must_fail --exit=64 env QUILT_S3_REQUEST_TIMEOUT=$s quilt list --registry s3://some-bucket 2>err &&
		grep -q "^error: invalid QUILT_S3_REQUEST_TIMEOUT" err || { echo "timeout $s"; return 1; }
	done &&
	test_must_fail --exit=64 quilt bundle create --level 99999999999999999999 t/pkg x.qb &&
	test_must_fail --exit=64 quilt config requests_timeout 1e300 2>err && grep -q "requests_timeout" err
'

test_expect_success 'shard numbers: --shard -1/4, a negative or huge index from the job runner' '
	test_must_fail --exit=64 quilt-hash-object --entries --shard -1/4 data/a.txt 2>err &&
	grep -q "^error: invalid --shard '"'"'-1/4'"'"': the index must be from 0 to 3$" err &&
	test_must_fail --exit=64 env QUILT_SHARD_INDEX=-1 QUILT_SHARD_COUNT=4 quilt-hash-object --entries --shard auto data/a.txt 2>err &&
	grep -q "^error: --shard auto: index -1 is negative: shards are numbered from 0 to 3 (from QUILT_SHARD_INDEX and QUILT_SHARD_COUNT)$" err &&
	test_must_fail --exit=64 env QUILT_SHARD_INDEX=4 QUILT_SHARD_COUNT=4 quilt-hash-object --entries --shard auto data/a.txt 2>err &&
	grep -q "index 4 is not below the count 4: shards are numbered from 0 to 3" err &&
	test_must_fail --exit=64 env SLURM_ARRAY_TASK_ID=-9223372036854775808 SLURM_ARRAY_TASK_MIN=1 \
		quilt-hash-object --entries --shard auto data/a.txt 2>err &&
	grep -q "SLURM_ARRAY_TASK_ID is out of range" err &&
	test_must_fail --exit=64 env SLURM_ARRAY_TASK_ID=3 SLURM_ARRAY_TASK_MIN=0 SLURM_ARRAY_TASK_STEP=9223372036854775807 \
		SLURM_ARRAY_TASK_COUNT=9 quilt-hash-object --entries --shard auto data/a.txt
'

test_expect_success 'an S3 entry without its hash given to write-manifest says why it cannot be hashed and what to do' '
	echo "{\"logical_key\": \"x\", \"physical_keys\": [\"s3://b/k\"], \"size\": 3}" >s3entry.jsonl &&
	test_must_fail quilt-write-manifest s3entry.jsonl 2>err &&
	grep -q "^error: cannot hash data at '"'"'s3://b/k'"'"' here: its entry has no hash or size, and an entry stream'"'"'s missing hashes are computed from local files only$" err &&
	grep -q "^hint: give the entry its \"size\" and \"hash\"" err
'

test_expect_success 'a duplicate key across part files names both files and lines' '
	quilt-hash-object --entries --root data data/a.txt >p1.jsonl && cp p1.jsonl p2.jsonl &&
	test_must_fail --exit=65 quilt-write-manifest p1.jsonl p2.jsonl 2>err &&
	grep -q "^error: duplicate logical key '"'"'a.txt'"'"' in '"'"'p1.jsonl'"'"' line 1 and '"'"'p2.jsonl'"'"' line 1$" err &&
	test_must_fail --exit=65 sh -c "quilt-write-manifest p1.jsonl - <p2.jsonl" 2>err &&
	grep -q "in '"'"'p1.jsonl'"'"' line 1 and standard input$" err
'

test_expect_success 'file names of 244 to 255 bytes build, install and verify (temporary names fit NAME_MAX)' '
	mkdir -p long &&
	for n in 243 244 250 255; do printf "%0${n}d" 0 | tr 0 a >name && echo "$n" >"long/$(cat name)" || return 1; done &&
	"$QUILT_TEST_PYTHON" -c "import sys; open(\"long/\" + \"é\" * 127, \"w\").write(\"u\\n\")" &&
	quilt build t/long long >top &&
	quilt install t/long --dest inst && quilt verify t/long --dir inst &&
	test "$(ls inst | wc -l)" = 5 && diff -r long inst &&
	! ls -a inst | grep -q "tmp-"
'

test_expect_success QUILT3 'quilt3 installs those names too, and reads our revision' '
	quilt3_py - "$(local_registry)" "$TRASH/q3inst" <<-\PY &&
	import sys, quilt3
	quilt3.Package.install("t/long", registry="file://" + sys.argv[1], dest=sys.argv[2])
	PY
	diff -r long q3inst
'

test_expect_success 'a catalog that echoes the code it refused: the code is never printed, in any case or form' '
	stub_catalog_start &&
	quilt config "$STUB_URL" >/dev/null &&
	for code in echo-MY-ONE-TIME-CODE-123 echo-upper-my-one-time-code-456 echo-object-MY-ONE-TIME-CODE-789; do
		echo "$code" | test_must_fail --exit=1 quilt login 2>err &&
		grep -q "^error: the catalog did not accept the code" err && cat err >>all.err || return 1
	done &&
	grep -q "^error: the catalog did not accept the code: invalid code <code>$" all.err &&
	! grep -i "one-time-code" all.err &&
	no_secret_in all.err
'

test_expect_success 'quilt login on a terminal: the page on a line of its own, no literal \n' '
	echo echo-terminal-code-1234 >code &&
	test_must_fail --exit=1 "$QUILT_TEST_PYTHON" "$REPO/Tests/t/pty-login.py" <code >tty.out &&
	grep -q "^Sign in at this page and copy the code it shows:$" tty.out &&
	grep -q "^  $STUB_URL/login$" tty.out &&
	! grep -q "\\\\n" tty.out && ! grep -q "echo-terminal-code-1234" tty.out
'

test_done
