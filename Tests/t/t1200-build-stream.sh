#!/usr/bin/env bash
test_description='the one build path: --from read as a stream and merged with --set and --rm in bounded memory; a removal of nothing refused before any file is read; push reads each file once'
. "$(dirname "$0")/lib.sh"

command -v strace >/dev/null 2>&1 && test_set_prereq STRACE

# files_read LOG PATH: bytes read from PATH in the logs of `strace -ff -y -e trace=read,pread64 -o LOG` (one log per
# thread, so no call is split into "unfinished" and "resumed" lines).
files_read() {
	cat "$1".* | grep -F "<$2>" | sed -n 's/.*(\([0-9]*\)<[^>]*>, .*) = \([0-9][0-9]*\)$/\2/p' | awk '{ s += $1 } END { print s + 0 }'
}

test_expect_success 'setup: a base revision of many files, some with metadata below a directory' '
	mkdir -p base/keep base/old base/sub &&
	for i in $(seq 1 300); do printf "%s\n" "$i" >base/keep/f$i.txt; done &&
	printf "o\n" >base/old/one && printf "t\n" >base/old/two && printf "s\n" >base/sub/s &&
	quilt build ns/base base --message base >base.top &&
	printf "added\n" >added.txt && printf "replaced\n" >replaced.txt &&
	mkdir more && printf "m\n" >more/m.txt
'

test_expect_success '--from with --set and --rm: the same revision with a 64K budget, nothing left in TMPDIR' '
	quilt build ns/edit --from ns/base --set new/added.txt=added.txt --set keep/f7.txt=replaced.txt \
		--set sub=more --rm old/ --message edit >default.top &&
	mkdir tmp &&
	TMPDIR=$PWD/tmp QUILT_MANIFEST_MEMORY_BUDGET=64K quilt build ns/edit2 --from ns/base \
		--set new/added.txt=added.txt --set keep/f7.txt=replaced.txt --set sub=more --rm old/ --message edit >small.top &&
	test_cmp default.top small.top &&
	test -z "$(ls -A tmp)" &&
	quilt show ns/edit >show &&
	grep -q " new/added.txt$" show && grep -q " sub/m.txt$" show && grep -q " sub/s$" show &&
	! grep -q " old/" show &&
	quilt install ns/edit --dest out >/dev/null && test "$(cat out/keep/f7.txt)" = replaced
'

test_expect_success 'the same edits through plumbing give the same top hash' '
	quilt-cat-manifest ns/base | tail -n +2 | grep -v "\"logical_key\": \"old/" |
		grep -v "\"logical_key\": \"keep/f7.txt\"" >kept &&
	(quilt-hash-object --entries --root . added.txt | sed "s|\"added.txt\"|\"new/added.txt\"|" &&
	 quilt-hash-object --entries --root . replaced.txt | sed "s|\"replaced.txt\"|\"keep/f7.txt\"|" &&
	 quilt-hash-object --entries --root . more/m.txt | sed "s|\"more/m.txt\"|\"sub/m.txt\"|") >added &&
	cat kept added | quilt-write-manifest --meta null --message edit >plumbing.top &&
	test_cmp default.top plumbing.top
'

test_expect_success STRACE 'a removal that names nothing is refused before any file is read' '
	mkdir big && make_file big/data.bin 4194304 3 &&
	test_must_fail --exit=65 strace -ff -y -e trace=read,pread64 -o trace.log \
		quilt build ns/edit --from ns/base --set big=big --rm nothing/here 2>err &&
	grep -q "no such logical key .nothing/here." err &&
	test "$(files_read trace.log "$PWD/big/data.bin")" = 0 &&
	# (The count is no vacuous 0: the same build with a removal that names something reads the file, once.)
	strace -ff -y -e trace=read,pread64 -o read.log \
		quilt build ns/edit --from ns/base --set big=big --rm old/one --message big >/dev/null &&
	test "$(files_read read.log "$PWD/big/data.bin")" = 4194304
'

test_expect_success 'a base stored out of tree order (a directory line after its entries) is read sorted' '
	quilt-cat-manifest ns/base >stored &&
	{ head -1 stored && tail -n +2 stored | tac && echo "{\"logical_key\": \"keep/\", \"meta\": {\"late\": true}}"; } >odd &&
	odd=$(sha256sum odd | cut -c1-64) &&
	top=$(cat base.top) && cp odd "$(local_registry)/.quilt/packages/$top" &&
	quilt build ns/fromodd --from "ns/base@$top" --set new/added.txt=added.txt --message odd >odd.top &&
	quilt show ns/fromodd >show && grep -q " new/added.txt$" show && grep -q " keep/f99.txt$" show &&
	quilt-cat-manifest ns/fromodd | sed -n 2p | grep -q "\"logical_key\": \"keep/\", \"meta\": {\"late\": true}"
'

test_expect_success S3,STRACE 'push reads each local file once: hashed by its upload' '
	s3_make_bucket once --versioned &&
	mkdir up && make_file up/big.bin 16777219 5 && make_file up/small.bin 4099 6 &&
	strace -ff -y -e trace=read,pread64 -o push.log quilt push ns/once up --registry s3://once >push.top &&
	big=$(files_read push.log "$PWD/up/big.bin") && small=$(files_read push.log "$PWD/up/small.bin") &&
	test "$big" = 16777219 && test "$small" = 4099 &&
	quilt build ns/local up >local.top && test_cmp local.top push.top
'

test_done
