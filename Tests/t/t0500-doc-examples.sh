#!/usr/bin/env bash
test_description='every example in Documentation/ runs and prints what its page shows (S3 examples with the S3 prerequisite)'
. "$(dirname "$0")/lib.sh"

# One test per page with examples; doc-examples.py says how blocks are found, run and compared. The pages describe
# the defaults a user has, so the object cache is on here (lib.sh turns it off for the other tests).
unset QUILT_DISABLE_CACHE
for page in "$REPO"/Documentation/*.md; do
	grep -q '^```sh$' "$page" || continue
	name=$(basename "$page" .md)
	if grep -q '^# needs S3' "$page" && ! grep -q '^export HOME' "$page"; then prereq=S3; else prereq=; fi
	test_expect_success $prereq "examples of $name" '
		mkdir "work-$name" &&
		"$QUILT_TEST_PYTHON" "$REPO/Tests/t/doc-examples.py" "$page" "work-$name"
	'
done

test_expect_success 'the runner compares: … within a line and alone, normalised timestamps and paths' '
	cat >page.md <<-\EOF &&
	# demo(7)

	```sh
	export HOME=$(mktemp -d) && cd "$HOME"
	printf "one\ntwo\nthree\n"; date +%s; echo "$HOME/x"
	```

	```text
	one
	…
	<timestamp>
	/tmp/tmp.XXXX/x
	```

	```sh
	echo "014a5a082afbb32f" >&2
	```

	```text
	014a5a08…
	```
	EOF
	mkdir w1 && "$QUILT_TEST_PYTHON" "$REPO/Tests/t/doc-examples.py" page.md w1 &&
	sed "s/^one$/uno/" page.md >bad.md && mkdir w2 &&
	test_must_fail "$QUILT_TEST_PYTHON" "$REPO/Tests/t/doc-examples.py" bad.md w2 >out &&
	grep -q "the output differs" out &&
	printf "# x(7)\n\n\`\`\`sh\nfalse\n\`\`\`\n" >fails.md && mkdir w3 &&
	test_must_fail "$QUILT_TEST_PYTHON" "$REPO/Tests/t/doc-examples.py" fails.md w3 >out &&
	grep -q "exit status 1" out
'

test_done
