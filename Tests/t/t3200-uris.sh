#!/usr/bin/env bash
test_description='Quilt+ URIs wherever a revision is taken: show --uri, cat and ls with path=, install limited by path=, diff, verify, rev-parse, cat-manifest, bundle, build --from; a URI against --registry'
. "$(dirname "$0")/lib.sh"

test_expect_success 'setup: two revisions in a registry that is not the default' '
	mkdir -p d/sub && printf "hello\n" >d/a.txt && printf "{}" >d/sub/b.json && printf x >"d/sub/my file.txt" &&
	top1=$(quilt build ns/p d --registry reg --message one) &&
	printf "more\n" >d/c.txt && top2=$(quilt build ns/p d --registry reg --message two) &&
	regdir=$(cd reg && pwd) &&
	uri=$(quilt show ns/p@$top1 --registry reg --uri) && echo "$uri" >uri
'

test_expect_success 'show --uri prints quilt+file:///<registry>#package=<name>@<top hash>' '
	echo "quilt+file://$regdir#package=ns/p@$top1" >expect && test_cmp expect uri &&
	quilt show ns/p --registry "file://$regdir" --uri >out && echo "quilt+file://$regdir#package=ns/p@$top2" >expect &&
	test_cmp expect out &&
	test_must_fail --exit=64 quilt show $top1 --registry reg --uri &&
	test_must_fail --exit=64 quilt show ns/p --registry reg --uri --json
'

test_expect_success 'a URI names its registry: show, rev-parse, cat-manifest, with no --registry' '
	quilt show "$uri" >out && grep -q "^top hash:  $top1$" out &&
	quilt rev-parse "$uri" "quilt+file://$regdir#package=ns/p" "quilt+file://$regdir#package=ns/p:latest" >out &&
	printf "%s\n%s\n%s\n" $top1 $top2 $top2 >expect && test_cmp expect out &&
	quilt-cat-manifest "$uri" >m && cmp m reg/.quilt/packages/$top1
'

test_expect_success 'cat and ls take path= (percent-encoded or not), or the argument' '
	quilt cat "$uri&path=a.txt" >out && cmp out d/a.txt &&
	quilt cat "$uri&path=sub%2Fmy%20file.txt" >out && printf x >expect && test_cmp expect out &&
	quilt cat "$uri&path=sub/my+file.txt" >out && test_cmp expect out &&
	quilt cat "$uri" a.txt >out && cmp out d/a.txt &&
	quilt cat "$uri&path=a.txt" a.txt >out && cmp out d/a.txt &&
	quilt ls "$uri&path=sub" >out && printf "b.json\nmy file.txt\n" >expect && test_cmp expect out &&
	quilt ls "$uri" >out && printf "a.txt\nsub/\n" >expect && test_cmp expect out
'

test_expect_success 'install by URI, limited by path= as by --path, recorded locally' '
	quilt install "$uri&path=sub" --dest out-sub &&
	(cd out-sub && find . -type f | sort) >found && printf "./b.json\n./my file.txt\n" >expect && test_cmp expect found &&
	quilt install "quilt+file://$regdir#package=ns/p" --dest all && test -f all/c.txt &&
	quilt rev-parse ns/p >out && echo $top2 >expect && test_cmp expect out
'

test_expect_success 'diff and verify by URI' '
	quilt diff "$uri" "quilt+file://$regdir#package=ns/p:latest" >out && printf "A\tc.txt\n" >expect && test_cmp expect out &&
	quilt diff "$uri" ns/p --registry reg >out && test_cmp expect out &&
	quilt verify --dir all "quilt+file://$regdir#package=ns/p@$top2"
'

test_expect_success 'bundle create and build --from take URIs' '
	quilt bundle create "$uri" one.bundle && test -s one.bundle &&
	quilt bundle verify one.bundle &&
	printf new >n.txt && top3=$(quilt build ns/p --from "$uri" --set n.txt=n.txt --message three) &&
	quilt ls ns/p@$top3 --registry reg >out && printf "a.txt\nn.txt\nsub/\n" >expect && test_cmp expect out &&
	test_must_fail quilt show $top3
'

test_expect_success 'a URI and a --registry naming another registry: usage error; the same one: fine' '
	mkdir other &&
	test_must_fail --exit=64 quilt show "$uri" --registry other 2>err && grep -q "names the registry" err &&
	test_must_fail --exit=64 quilt cat "$uri&path=a.txt" --registry other &&
	test_must_fail --exit=64 quilt install "$uri" --registry other --dest x &&
	test ! -e x &&
	quilt show "$uri" --registry "$regdir/" >/dev/null && quilt show "$uri" --registry reg >/dev/null
'

test_expect_success 'malformed URIs and misplaced paths are usage errors' '
	test_must_fail --exit=64 quilt show "quilt+file://$regdir" &&
	test_must_fail --exit=64 quilt show "quilt+file://$regdir#package=ns/p&pth=a" 2>err && grep -q "unknown parameter" err &&
	test_must_fail --exit=64 quilt show "quilt+file://$regdir#package=ns/p@$top1:latest" &&
	test_must_fail --exit=64 quilt show "quilt+gs://b#package=ns/p" &&
	test_must_fail --exit=64 quilt show "$uri&path=a.txt" 2>err && grep -q "no meaning here" err &&
	test_must_fail --exit=64 quilt cat "$uri&path=a.txt" sub/b.json &&
	test_must_fail --exit=64 quilt ls "$uri&path=sub" a.txt &&
	test_must_fail --exit=64 quilt install "$uri&path=sub" --path a.txt --dest y &&
	test_must_fail --exit=65 quilt show "quilt+file://$regdir#package=bad"
'

test_done
