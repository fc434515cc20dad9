#!/usr/bin/env bash
test_description='sharded publishing on a real Slurm: a one-node cluster (munged, slurmctld, slurmd on 127.0.0.1, in the trash directory) runs job arrays whose tasks take their shard from --shard auto, and the sharded-publishing page'"'"'s Slurm example as written; the top hash is that of quilt build and of quilt3; nothing is left running'
. "$(dirname "$0")/lib.sh"

# --- a one-node cluster ----------------------------------------------------------------------------------------
# Everything lives in $TRASH/slurm (and the munge socket in a short directory of /tmp: a socket path has at most 107
# bytes). The daemons run in the foreground as children of this shell, so that stopping them is a kill and a wait.
cluster=$TRASH/slurm
munge_dir=
MUNGED_PID= SLURMCTLD_PID= SLURMD_PID=

# free_port: a TCP port of 127.0.0.1 that nothing listens on now.
free_port() {
	"$QUILT_TEST_PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# slurm_cannot_start: the reason the cluster cannot start here, or nothing.
slurm_cannot_start() {
	local tool
	for tool in munged mungekey munge slurmctld slurmd sbatch squeue scontrol scancel sinfo; do
		command -v $tool >/dev/null || { echo "'$tool' not found (scripts/bootstrap installs slurm-wlm and munge)"; return; }
	done
	[ "$(id -u)" = 0 ] || { echo "not root: slurmd runs each job as its user, which needs root"; return; }
	# CommunicationParameters=NoInAddrAny,NoCtldInAddrAny bind the daemons to the address the host name has:
	# it must be loopback, never an address other machines reach.
	local addresses
	addresses=$(getent ahostsv4 "$host" | awk '{print $1}' | sort -u)
	[ -n "$addresses" ] && ! grep -qv '^127\.' <<<"$addresses" ||
		{ echo "the host name '$host' resolves to '$(echo $addresses)', not to loopback only"; return; }
}

slurm_start() {
	mkdir -p "$cluster/state" "$cluster/spool" && munge_dir=$(mktemp -d /tmp/quilt-munge.XXXXXX) &&
	# munged wants its socket's directory searchable by all, and only its owner writing there.
	chmod 755 "$munge_dir" && mungekey --create --keyfile="$munge_dir/munge.key" &&
	{ munged --foreground --socket="$munge_dir/socket" --key-file="$munge_dir/munge.key" \
		--log-file="$cluster/munged.log" --pid-file="$munge_dir/munged.pid" --seed-file="$munge_dir/munged.seed" \
		</dev/null >>"$cluster/munged.log" 2>&1 & MUNGED_PID=$!; } &&
	wait_for 10 test -S "$munge_dir/socket" && munge -n -S "$munge_dir/socket" | unmunge -S "$munge_dir/socket" >/dev/null &&
	cat >"$cluster/slurm.conf" <<-EOF &&
	ClusterName=quilttest
	SlurmctldHost=$host(127.0.0.1)
	SlurmctldPort=$(free_port)
	SlurmdPort=$(free_port)
	SlurmUser=root
	SlurmdUser=root
	AuthType=auth/munge
	CredType=cred/munge
	AuthInfo=socket=$munge_dir/socket
	CommunicationParameters=NoInAddrAny,NoCtldInAddrAny
	StateSaveLocation=$cluster/state
	SlurmdSpoolDir=$cluster/spool
	SlurmctldPidFile=$cluster/slurmctld.pid
	SlurmdPidFile=$cluster/slurmd.pid
	SlurmctldLogFile=$cluster/slurmctld.log
	SlurmdLogFile=$cluster/slurmd.log
	MailProg=/bin/true
	ProctrackType=proctrack/linuxproc
	TaskPlugin=task/none
	JobAcctGatherType=jobacct_gather/none
	AccountingStorageType=accounting_storage/none
	JobCompType=jobcomp/none
	MpiDefault=none
	SelectType=select/cons_tres
	SelectTypeParameters=CR_Core
	ReturnToService=2
	DependencyParameters=kill_invalid_depend
	MinJobAge=3600
	# Four CPUs whatever the machine has, so that four shards run at once, as on four machines.
	SlurmdParameters=config_overrides
	NodeName=$host NodeAddr=127.0.0.1 CPUs=4 State=UNKNOWN
	PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP
	EOF
	export SLURM_CONF=$cluster/slurm.conf &&
	{ slurmctld -D -i </dev/null >>"$cluster/slurmctld.out" 2>&1 & SLURMCTLD_PID=$!; } &&
	wait_for 20 scontrol ping &&
	{ slurmd -D </dev/null >>"$cluster/slurmd.out" 2>&1 & SLURMD_PID=$!; } &&
	wait_for 30 node_idle
}

node_idle() { [ "$(sinfo -h -N -o %t 2>/dev/null)" = idle ]; }

# wait_for SECONDS CMD...: CMD succeeds within SECONDS (tried every 0.2 s).
wait_for() {
	local limit=$(($1 * 5)) n=0; shift
	until "$@" >/dev/null 2>&1; do
		n=$((n + 1)); [ $n -ge $limit ] && return 1
		sleep 0.2
	done
}

# slurm_stop: cancels what still runs, stops the daemons this file started and waits for them.
slurm_stop() {
	if [ -n "$SLURMCTLD_PID" ] && kill -0 "$SLURMCTLD_PID" 2>/dev/null; then
		scancel --full --quiet --user=root 2>/dev/null
		wait_for 20 sh -c '[ -z "$(squeue -h 2>/dev/null)" ]'
	fi
	local pid
	for pid in $SLURMD_PID $SLURMCTLD_PID $MUNGED_PID; do kill "$pid" 2>/dev/null; done
	for pid in $SLURMD_PID $SLURMCTLD_PID $MUNGED_PID; do wait "$pid" 2>/dev/null; done
	SLURMD_PID= SLURMCTLD_PID= MUNGED_PID=
	[ -n "$munge_dir" ] && rm -rf "$munge_dir"
	munge_dir=
	unset SLURM_CONF
}
trap slurm_stop EXIT
trap 'exit 143' TERM INT

# job_states JOBID: `<task> <state> <exit code>` for each task of a job (one line for a job that is no array).
job_states() {
	scontrol -o show job "$1" | sed -n 's/.*ArrayTaskId=\([^ ]*\).*JobState=\([^ ]*\).* ExitCode=\([^ ]*\).*/\1 \2 \3/p
		t; s/.*JobState=\([^ ]*\).* ExitCode=\([^ ]*\).*/- \1 \2/p' | sort
}

# wait_jobs SECONDS JOBID...: every job has left the queue within SECONDS.
wait_jobs() {
	local limit=$1; shift
	wait_for "$limit" sh -c '[ -z "$(squeue -h -j "$(echo "$@" | tr " " ,)" 2>/dev/null)" ]' sh "$@" ||
		{ squeue; return 1; }
}

host=$(hostname -s)
reason=$(slurm_cannot_start)
if [ -z "$reason" ]; then
	if slurm_start; then test_set_prereq SLURM; else
		reason="the cluster did not start (logs follow)"
		for log in "$cluster"/*.log "$cluster"/*.out; do [ -s "$log" ] && { echo "# $log:"; tail -n 5 "$log" | sed 's/^/#   /'; }; done
		slurm_stop
	fi
fi
[ -n "$reason" ] && echo "# Slurm cannot start here, its tests skip: $reason"

# --- the tests -------------------------------------------------------------------------------------------------
bucket=slurm-$$-$RANDOM

test_expect_success 'setup: a tree of small and big files, nested and odd names; its top hash by quilt build and by quilt3' '
	make_tree data &&
	mkdir scratch &&
	quilt build t/tree data --message nightly >top && test_line_count = 1 top
'

test_expect_success QUILT3 'quilt3 builds the same top hash' '
	quilt3_build_dir t/tree "$TRASH/data" nightly >q3top && test_cmp top q3top
'

test_expect_success SLURM 'the cluster: one idle node, every daemon on 127.0.0.1 only' '
	sinfo -h -N -o "%N %t %c" >out && echo "$host idle 4" >expect && test_cmp expect out &&
	if command -v ss >/dev/null; then
		ss -ltnp >listening &&
		for pid in $SLURMCTLD_PID $SLURMD_PID; do
			grep "pid=$pid," listening >mine && test -s mine && ! grep -v " 127\.0\.0\.1:" mine || return 1
		done
	fi
'

# array_run NAME ARRAY: a job array of the hash step alone (a manifest-only build on a shared file system), each
# task writing part-<task id>.jsonl; waits for it and checks that every task completed.
array_run() {
	sbatch --parsable --array="$2" --job-name="$1" --output="$1-%a.out" \
		--wrap "find data -type f | quilt-hash-object --stdin-paths --entries --root data --shard auto -v > $1-part-\$SLURM_ARRAY_TASK_ID.jsonl" >"$1.job" &&
	wait_jobs 120 "$(cat "$1.job")" &&
	job_states "$(cat "$1.job")" >"$1.states" &&
	test "$(grep -c " COMPLETED 0:0$" "$1.states")" = 4 && test_line_count = 4 "$1.states"
}

test_expect_success SLURM '--array=0-3: four tasks, shards 0 to 3 from SLURM_ARRAY_*; merged, the top hash of quilt build' '
	array_run zero 0-3 &&
	for k in 0 1 2 3; do
		grep -q "^verbose: shard $k/4 (from SLURM_ARRAY_TASK_ID" zero-$k.out || { cat zero-$k.out; return 1; }
	done &&
	quilt-write-manifest --message nightly --meta null zero-part-0.jsonl zero-part-1.jsonl zero-part-2.jsonl zero-part-3.jsonl >out &&
	test_cmp top out
'

test_expect_success SLURM '--array=1-4 and --array=0-9:3: the same four shards' '
	array_run one 1-4 && array_run step 0-9:3 &&
	for k in 0 1 2 3; do
		cmp zero-part-$k.jsonl one-part-$((k + 1)).jsonl && cmp zero-part-$k.jsonl step-part-$((k * 3)).jsonl || return 1
	done
'

# The page's example, as written but for its paths: /data, /scratch/team-data and s3://my-bucket become this
# test's directories and bucket.
page=$REPO/Documentation/sharded-publishing.md
test_expect_success SLURM 'the page'"'"'s Slurm example: shards.sbatch and the two commands that submit it' '
	"$QUILT_TEST_PYTHON" - "$page" <<-\PY >example &&
	import re, sys
	text = open(sys.argv[1]).read()
	section = text[text.index("### Slurm job array"):]
	section = section[:section.index("\n## ")]
	blocks = re.findall(r"^```(\w*)\n(.*?)^```$", section, re.S | re.M)
	script = next(body for lang, body in blocks if lang == "" and body.startswith("#!"))
	console = next(body for lang, body in blocks if lang == "console")
	commands = re.sub(r"^\$ ", "", console, flags=re.M)
	open("shards.sbatch.page", "w").write(script)
	print(commands, end="")
	PY
	grep -q "^#SBATCH --array=0-3$" shards.sbatch.page && grep -q -- "--shard auto" shards.sbatch.page &&
	grep -q "^shards=\$(sbatch --parsable shards.sbatch)$" example &&
	test_line_count = 4 example
'

paths() { sed "s|\([ =]\)/data\b|\1$TRASH/data|g; s|/scratch/team-data|$TRASH/scratch|g; s|s3://my-bucket|s3://$bucket|g"; }

test_expect_success SLURM,S3 'the page'"'"'s example runs: four shards hash and upload, the merge publishes to S3 after them' '
	s3_make_bucket "$bucket" --versioned &&
	paths <shards.sbatch.page >shards.sbatch && paths <example >example.sh &&
	! grep -q -e my-bucket -e " /data" -e /scratch/team-data shards.sbatch example.sh &&
	printf "\necho \"\$shards\" >shards.job\n" >>example.sh &&
	bash -e example.sh >submitted &&
	shards=$(cat shards.job) && merge=$(sed -n "s/^Submitted batch job //p" submitted) && test -n "$merge" &&
	wait_jobs 180 "$shards" "$merge" &&
	job_states "$shards" >states && test_line_count = 4 states &&
	test "$(grep -c " COMPLETED 0:0$" states)" = 4 || { cat states slurm-*.out; return 1; }
	job_states "$merge" >states && echo "- COMPLETED 0:0" >expect && test_cmp expect states || { cat slurm-$merge.out; return 1; }
	for k in 0 1 2 3; do grep -q "s3://$bucket/team/data/" scratch/part-$k.jsonl || return 1; done &&
	quilt-rev-parse --registry "s3://$bucket" team/data >s3top && test_cmp top s3top
'

test_expect_success SLURM,S3,QUILT3 'quilt3 reads the Slurm publication: the same top hash, every file verified' '
	quilt3_py - "s3://$bucket" "$(cat top)" "$TRASH/data" <<-\PY
	import sys, quilt3
	p = quilt3.Package.browse("team/data", registry=sys.argv[1])
	assert p.top_hash == sys.argv[2], p.top_hash
	quilt3.Package.install("team/data", registry=sys.argv[1], dest="q3copy")
	assert p.verify(sys.argv[3])
	PY
'

test_expect_success SLURM 'a failed task: the merge that depends on it never runs, nothing is published' '
	paths <shards.sbatch.page | sed "s|$TRASH/scratch|$TRASH/no-such-dir|" >failing.sbatch &&
	shards=$(sbatch --parsable failing.sbatch) &&
	merge=$(sbatch --parsable --dependency=afterok:$shards --wrap "quilt-write-manifest --registry failreg --meta null part-*.jsonl") &&
	wait_jobs 120 "$shards" "$merge" &&
	job_states "$shards" >states && test "$(grep -c " FAILED " states)" = 4 &&
	job_states "$merge" >states && grep -q "^- CANCELLED " states &&
	test ! -e failreg
'

test_expect_success SLURM 'the cluster stops: nothing of it is left running' '
	pids="$SLURMD_PID $SLURMCTLD_PID $MUNGED_PID" munge_was=$munge_dir && slurm_stop &&
	for pid in $pids; do ! kill -0 $pid 2>/dev/null || return 1; done &&
	# Every process of this cluster (daemons, slurmstepd, job tasks) has its SLURM_CONF in its environment.
	! grep -l -a -F "SLURM_CONF=$cluster/slurm.conf" /proc/[0-9]*/environ 2>/dev/null &&
	test ! -e "$munge_was"
'

test_done
