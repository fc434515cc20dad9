#!/usr/bin/env bash
test_description='quilt-update-ref and quilt-show-ref: pointers, compare-and-swap, deletion'
. "$(dirname "$0")/lib.sh"

test_expect_success 'setup' '
	mkdir d && echo 1 >d/f &&
	(cd d && ls | quilt-hash-object --stdin-paths --entries) >entries &&
	h1=$(quilt-write-manifest --message one <entries) &&
	h2=$(quilt-write-manifest --message two <entries) &&
	h3=$(quilt-write-manifest --message three <entries) &&
	ptr="$(local_registry)/.quilt/named_packages/ns/pkg"
'

test_expect_success 'update-ref writes a timestamp pointer and latest, bare hex without newline' '
	quilt-update-ref ns/pkg $h1 &&
	printf %s "$h1" >expect && test_cmp expect "$ptr/latest" &&
	ls "$ptr" | grep -v latest >ts && test_line_count = 1 ts &&
	test_cmp expect "$ptr/$(cat ts)"
'

test_expect_success 'compare-and-swap: OLD must be what latest holds' '
	test_must_fail --exit=2 quilt-update-ref ns/pkg $h2 $h3 2>err && grep -q "^error: " err &&
	printf %s "$h1" >expect && test_cmp expect "$ptr/latest" &&
	sleep 1 && quilt-update-ref ns/pkg $h2 $h1 &&
	printf %s "$h2" >expect && test_cmp expect "$ptr/latest"
'

test_expect_success 'OLD none: only when the package does not exist' '
	test_must_fail --exit=2 quilt-update-ref ns/pkg $h3 none &&
	quilt-update-ref ns/new $h3 none &&
	quilt-show-ref ns/new >out && grep -q "^$h3 ns/new latest$" out
'

test_expect_success 'update-ref refuses a hash with no manifest' '
	test_must_fail quilt-update-ref ns/pkg $(printf %064d 0)
'

test_expect_success 'show-ref lists pointers' '
	quilt-show-ref >out &&
	grep -q "^$h2 ns/pkg latest$" out && grep -q "^$h1 ns/pkg [0-9]*$" out
'

test_expect_success 'a corrupt pointer is skipped with a warning; the others are listed' '
	echo "not a hash" >"$ptr/1000000000" &&
	quilt-show-ref >out 2>err && quilt-show-ref ns/pkg >out2 2>err2 &&
	grep -q "^$h2 ns/pkg latest$" out && grep -q "^$h1 ns/pkg [0-9]*$" out && ! grep -q 1000000000 out &&
	grep -q "^warning: skipping corrupt pointer .*ns/pkg/1000000000" err && test_line_count = 1 err &&
	grep " ns/pkg " out >out1 && test_cmp out1 out2 && test_cmp err err2 &&
	rm "$ptr/1000000000"
'

test_expect_success '-d HASH removes that revision and re-points latest at the newest remaining' '
	sleep 1 && quilt-update-ref ns/pkg $h3 &&
	quilt-update-ref -d ns/pkg $h3 &&
	printf %s "$h2" >expect && test_cmp expect "$ptr/latest" &&
	test_must_fail quilt-update-ref -d ns/pkg $h3
'

test_expect_success '-d NAME removes every pointer, and the empty namespace' '
	quilt-update-ref -d ns/pkg && quilt-update-ref -d ns/new &&
	test ! -e "$(local_registry)/.quilt/named_packages/ns" &&
	test -f "$(local_registry)/.quilt/packages/$h1"
'

test_expect_success 'invalid names are bad input' '
	test_must_fail --exit=65 quilt-update-ref "no-slash" $h1 &&
	test_must_fail --exit=65 quilt-update-ref "a/b/c" $h1
'

test_expect_success 'concurrent compare-and-swap: exactly one wins' '
	quilt-update-ref ns/race $h1 &&
	{ quilt-update-ref ns/race $h2 $h1 2>/dev/null; echo $? >rc2; } &
	{ quilt-update-ref ns/race $h3 $h1 2>/dev/null; echo $? >rc3; } &
	wait &&
	sort rc2 rc3 | tr "\n" " " >codes && printf "0 2 " >expect && test_cmp expect codes &&
	l=$(cat "$(local_registry)/.quilt/named_packages/ns/race/latest") &&
	if test "$(cat rc2)" = 0; then test "$l" = "$h2"; else test "$l" = "$h3"; fi
'

test_done
