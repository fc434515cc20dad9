#!/usr/bin/env bash
test_description='status and pull against quilt3 and moto: status finds exactly the files changed, deleted and added; after quilt3 pushes a revision with one file modified, one deleted and one added, pull downloads exactly those 2 objects (proxy log), removes the deleted one, and quilt3 verify passes; the pulled revision is the one a push then expects (remote-tracking)'
. "$(dirname "$0")/lib.sh"

bucket=pull-$$-$RANDOM
reg="s3://$bucket"
trap proxy_stop EXIT
command -v strace >/dev/null && strace -f -e trace=openat -o /dev/null true 2>/dev/null && test_set_prereq STRACE

# data_opens TRACE DIR: files (not directories) below DIR that the traced run opened.
data_opens() { grep -E "open(at)?\(.*\"$2/" "$1" | grep -v O_DIRECTORY | grep -c . || true; }

# data_gets: the proxy log's GETs of package data (not manifests, pointers or listings).
data_gets() { grep " GET /$bucket/" proxy.log | grep -v -e " GET /$bucket/.quilt/" -e "?list-type" -e "?versions" || true; }

# quilt3_push NAME: quilt3 pushes the files of d as NAME (one revision), printing its top hash (quilt3's own
# messages on stdout left out).
quilt3_push() {
	quilt3_py -c "
import quilt3
p = quilt3.Package()
p.set_dir('.', 'd')
print('top hash:', p.push('$1', registry='$reg', message='by quilt3', force=True).top_hash)
" | sed -n "s/^top hash: //p"
}

test_expect_success S3,QUILT3 'setup: quilt3 pushes revision 1, we install it' '
	s3_make_bucket $bucket --versioned &&
	mkdir -p d/sub && echo a >d/a && echo b >d/b && echo c >d/c && echo s >d/sub/s && make_file d/sub/big 300000 &&
	quilt3_push ns/p >top1 &&
	quilt install ns/p --registry "$reg" --dest w && quilt install ns/p --registry "$reg" --dest edits &&
	quilt status w --porcelain >out && test ! -s out &&
	quilt status w --json | grep -q "\"up_to_date\": true"
'

test_expect_success S3,QUILT3 'status finds exactly the modified, deleted and added files (quilt3 verify agrees something changed)' '
	echo A >edits/a && rm edits/sub/s && echo new >edits/sub/new && printf X | dd of=edits/sub/big bs=1 seek=1000 conv=notrunc 2>/dev/null &&
	quilt status edits --porcelain --no-fetch >out &&
	printf "M a\nM sub/big\nA sub/new\nD sub/s\n" >expect && test_cmp expect out &&
	quilt verify ns/p --registry "$reg" --dir edits --json >v.json || true &&
	"$QUILT_TEST_PYTHON" -c "
import json
v = json.load(open(\"v.json\"))
assert v == {\"ok\": False, \"missing\": [\"sub/s\"], \"modified\": [\"a\", \"sub/big\"], \"extra\": [\"sub/new\"]}, v
" &&
	quilt3_py -c "
import quilt3
assert not quilt3.Package.browse(\"ns/p\", registry=\"$reg\").verify(\"$TRASH/edits\")
"
'

test_expect_success S3,QUILT3 'quilt3 pushes revision 2 (b modified, c deleted, e added): status says latest moved' '
	echo b2 >d/b && rm d/c && echo e >d/e &&
	quilt3_push ns/p >top2 && test "$(cat top1)" != "$(cat top2)" &&
	quilt status w --json >s.json &&
	grep -q "\"latest\": \"$(cat top2)\", \"up_to_date\": false" s.json &&
	quilt status w | grep -q "^latest in $reg is $(cut -c1-7 top2), not the installed revision"
'

test_expect_success S3,QUILT3 'pull downloads exactly the 2 changed objects, removes the deleted file; quilt3 verify passes' '
	proxy_start && : >proxy.log &&
	AWS_ENDPOINT_URL=$PROXY_URL quilt pull w --json >p.json &&
	data_gets >gets && test_line_count = 2 gets &&
	grep -q " GET /$bucket/ns/p/b[?]" gets && grep -q " GET /$bucket/ns/p/e[?]" gets &&
	grep -q "\"written\": 2, \"removed\": 1, \"kept\": 3" p.json &&
	test ! -e w/c && cmp d/b w/b && cmp d/e w/e &&
	quilt3_py -c "
import quilt3
p = quilt3.Package.browse(\"ns/p\", registry=\"$reg\")
assert p.top_hash == open(\"top2\").read().strip(), p.top_hash
assert p.verify(\"$TRASH/w\"), \"quilt3 verify failed\"
" &&
	quilt status w --porcelain >out && test ! -s out &&
	quilt status w --json | grep -q "\"top_hash\": \"$(cat top2)\", \"registry\": \"$reg\""
'

test_expect_success S3,QUILT3 'with the object cache, a second directory pulls without downloading' '
	unset QUILT_DISABLE_CACHE &&
	quilt install ns/p@$(cat top1) --registry "$reg" --dest w3 && quilt install ns/p@$(cat top2) --registry "$reg" --dest w4 &&
	: >proxy.log &&
	AWS_ENDPOINT_URL=$PROXY_URL quilt pull w3 --json >p.json &&
	data_gets >gets && test_line_count = 0 gets && grep -q "\"written\": 2" p.json &&
	quilt verify ns/p --registry "$reg" --dir w3
'

test_expect_success S3,QUILT3 'the pulled revision is the remote-tracking record: a push of the name then expects it' '
	test "$(cat "$XDG_DATA_HOME/Quilt/remotes/s3%3A%2F%2F$bucket/ns/p")" = "$(cat top2)" &&
	cp -R w mine && echo mine >mine/a &&
	QUILT_TRACE=1 quilt push ns/p mine --registry "$reg" --message mine >top3 2>trace &&
	grep -q "push expects $(cat top2) (last published or read here)" trace &&
	test "$(cat "$XDG_DATA_HOME/Quilt/remotes/s3%3A%2F%2F$bucket/ns/p")" = "$(cat top3)"
'

test_expect_success S3,QUILT3,STRACE 'the files pull downloaded are in the record: a status right after it opens none' '
	quilt pull w --json >p.json && grep -q "\"top_hash\": \"$(cat top3)\"" p.json && grep -q "\"written\": 1" p.json &&
	strace -f -e trace=open,openat -o trace quilt status w --porcelain >out && test ! -s out &&
	test "$(data_opens trace "$TRASH/w")" = 0 && cmp mine/a w/a
'

test_done
