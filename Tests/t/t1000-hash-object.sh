#!/usr/bin/env bash
test_description='quilt-hash-object: values, batch mode, entries, types, errors'
. "$(dirname "$0")/lib.sh"

test_expect_success 'setup' '
	printf "hello\n" >hello.txt && : >empty && printf "Hello, World!" >hw &&
	mkdir -p d/sub && printf "x" >d/a && printf "yy" >"d/sub/we ird+%.txt"
'

test_expect_success 'known sha2-256-chunked values' '
	quilt-hash-object hello.txt empty hw >out &&
	cat >expect <<-\EOT &&
	7LZbuY+dkFtwRYmGw5/LrXcV5fL8w7Hwd2fXyD4kOMw=
	47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=
	BCp9ZKWB7y7pg/IQWIAcw1ZjtwXmxV9i+o4PGOzHCYk=
	EOT
	test_cmp expect out
'

test_expect_success 'files of 8 MiB - 1, 8 MiB, 8 MiB + 1 (zeros)' '
	make_file z1 8388607 zero && make_file z2 8388608 zero && make_file z3 8388609 zero &&
	quilt-hash-object z1 z2 z3 >out &&
	cat >expect <<-\EOT &&
	6D2pq48irFt4HfUg5jZ5Mh0xLWnHtZnvhWpbUMHXGos=
	MIsGKY+ykqN4CPj3gGGu4Gv03N7OWKWpsZqEf+OrGJs=
	Y68lgvvPstmbueZHNVw/WNEIEX0Qxy01vyRB//bzz/g=
	EOT
	test_cmp expect out
'

test_expect_success '--stdin-paths keeps input order, -z takes NUL separators' '
	printf "hw\nhello.txt\nempty\n" | quilt-hash-object --stdin-paths >out &&
	printf "BCp9ZKWB7y7pg/IQWIAcw1ZjtwXmxV9i+o4PGOzHCYk=\n7LZbuY+dkFtwRYmGw5/LrXcV5fL8w7Hwd2fXyD4kOMw=\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n" >expect &&
	test_cmp expect out &&
	printf "hw\0hello.txt\0empty\0" | quilt-hash-object --stdin-paths -z >out2 &&
	test_cmp expect out2
'

test_expect_success '--type SHA256 and CRC64NVME' '
	quilt-hash-object --type SHA256 hw >out &&
	echo dffd6021bb2bd5b0af676290809ec3a53191dd81c7f70a4b28688a362182986f >expect && test_cmp expect out &&
	quilt-hash-object --type CRC64NVME hw empty >out &&
	printf "1Km+Qyat0k0=\nAAAAAAAAAAA=\n" >expect && test_cmp expect out
'

test_expect_success '--entries gives logical keys relative to --root and file URLs' '
	(cd d && find . -type f | sort | quilt-hash-object --stdin-paths --entries) >out &&
	grep -q "\"logical_key\": \"a\", \"physical_keys\": \[\"file://$TRASH/d/a\"\], \"size\": 1" out &&
	grep -q "\"logical_key\": \"sub/we ird+%.txt\", \"physical_keys\": \[\"file://$TRASH/d/sub/we%20ird%2B%25.txt\"\]" out &&
	quilt-hash-object --entries --root d d/a >out2 && grep -q "\"logical_key\": \"a\"" out2
'

test_expect_success 'a path outside --root is bad input' '
	test_must_fail --exit=65 quilt-hash-object --entries --root d hw 2>err && grep -q "^error: " err
'

test_expect_success 'a path that is not UTF-8 is bad input, shown escaped' '
	echo x >"$(printf "n\377")" &&
	printf "hw\nn\377\n" | test_must_fail --exit=65 quilt-hash-object --stdin-paths --entries 2>err &&
	grep -q "^error: .*n\\\\xff" err &&
	printf "hw\0n\377\0" | test_must_fail --exit=65 quilt-hash-object --stdin-paths -z 2>err &&
	grep -q "^error: .*n\\\\xff" err
'

test_expect_success 'a missing file fails with one line naming it' '
	test_must_fail --exit=1 quilt-hash-object hw nope 2>err &&
	grep -q "nope" err && test_line_count = 1 err
'

test_expect_success 'a directory is not a file' '
	test_must_fail quilt-hash-object d 2>err && grep -q "error: .*d" err
'

test_expect_success 'usage errors' '
	test_must_fail --exit=64 quilt-hash-object &&
	test_must_fail --exit=64 quilt-hash-object --type MD5 hw &&
	test_must_fail --exit=64 quilt-hash-object -z hw
'

test_done
