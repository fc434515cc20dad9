#!/usr/bin/env bash
test_description='quilt install --path, repeatable: logical keys, directory keys and patterns (path syntax); one path places relative to it, several at the logical keys; a path that selects nothing stops the install before anything is written'
. "$(dirname "$0")/lib.sh"

# files DIR: the files below DIR, sorted, one a line.
files() { (cd "$1" && find . -type f | sed "s|^\./||" | LC_ALL=C sort); }

test_expect_success 'setup' '
	mkdir -p d/data/raw/2024 d/docs && echo 1 >d/data/a.csv && echo 2 >d/data/b.json && echo 3 >d/data/raw/r.csv &&
	echo 4 >d/data/raw/2024/y.csv && echo 5 >d/docs/readme.md && echo 6 >"d/odd[1].txt" && echo 7 >d/top.csv &&
	quilt build ns/p d --registry reg --message m >/dev/null
'

test_expect_success 'one pattern: its matches relative to the directories it starts with; * stays in a segment' '
	quilt install ns/p --registry reg --dest p1 --path "data/*.csv" &&
	files p1 >out && echo a.csv >expect && test_cmp expect out && cmp d/data/a.csv p1/a.csv
'

test_expect_success 'one pattern with **: any number of directories, kept below the literal part' '
	quilt install ns/p --registry reg --dest p2 --path "data/**/*.csv" &&
	files p2 >out && printf "a.csv\nraw/2024/y.csv\nraw/r.csv\n" >expect && test_cmp expect out &&
	quilt install ns/p --registry reg --dest p3 --path "**/*.csv" &&
	files p3 >out && printf "data/a.csv\ndata/raw/2024/y.csv\ndata/raw/r.csv\ntop.csv\n" >expect && test_cmp expect out
'

test_expect_success 'one directory key or one file key: placed as before (relative, or at its base name)' '
	quilt install ns/p --registry reg --dest p4 --path data/raw/ &&
	files p4 >out && printf "2024/y.csv\nr.csv\n" >expect && test_cmp expect out &&
	quilt install ns/p --registry reg --dest p5 --path data/raw/r.csv &&
	files p5 >out && echo r.csv >expect && test_cmp expect out
'

test_expect_success 'several paths: every selected file at its logical key, each once' '
	quilt install ns/p --registry reg --dest p6 --path docs --path "data/*.json" --path top.csv --path docs/readme.md &&
	files p6 >out && printf "data/b.json\ndocs/readme.md\ntop.csv\n" >expect && test_cmp expect out
'

test_expect_success 'a key with pattern characters is taken as written too' '
	quilt install ns/p --registry reg --dest p7 --path "odd[1].txt" &&
	files p7 >out && echo "odd[1].txt" >expect && test_cmp expect out
'

test_expect_success 'a path that selects nothing: exit 1 naming it, nothing written' '
	test_must_fail --exit=1 quilt install ns/p --registry reg --dest p8 --path docs --path "data/*.txt" 2>err &&
	grep -q "^error: no such path in the package .data/\*\.txt.$" err && test ! -e p8
'

test_expect_success 'status and pull keep the selection: the record holds the paths' '
	quilt status p6 --json --no-fetch >out.json &&
	grep -q "\"paths\": \[\"docs\", \"data/\*.json\", \"top.csv\", \"docs/readme.md\"\]" out.json &&
	quilt status p6 --porcelain --no-fetch >out && test ! -s out &&
	rm -rf s && cp -R d s && echo 8 >s/data/c.json && echo 9 >s/data/c.txt &&
	quilt build ns/p s --registry reg --message two >/dev/null &&
	quilt pull p6 --json >out.json && grep -q "\"written\": 1" out.json &&
	files p6 >out && printf "data/b.json\ndata/c.json\ndocs/readme.md\ntop.csv\n" >expect && test_cmp expect out
'

test_done
