#!/usr/bin/env bash
test_description='batch publishing: one package per sub-directory with a shell loop (Documentation/batch-publishing.md)'
. "$(dirname "$0")/lib.sh"

test_expect_success 'setup' '
	for n in alpha beta gamma; do mkdir -p incoming/$n && echo $n >incoming/$n/data.csv && echo "# $n" >incoming/$n/README.md; done
'

test_expect_success 'a loop over quilt build publishes each sub-directory' '
	for d in incoming/*/; do
		quilt build "team/$(basename "$d")" "$d" --message "nightly" >/dev/null || return 1
	done &&
	quilt list >out && printf "team/alpha\nteam/beta\nteam/gamma\n" >expect && test_cmp expect out
'

test_expect_success 'the plumbing loop gives the same top hashes' '
	for d in incoming/*/; do
		name=team/$(basename "$d")
		h=$( (cd "$d" && find . -type f | quilt-hash-object --stdin-paths --entries) |
			quilt-write-manifest --message nightly --meta null) &&
		test "$h" = "$(quilt-rev-parse $name)" || return 1
	done
'

test_done
