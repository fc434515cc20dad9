#!/usr/bin/env bash
test_description='concurrent writers on S3: of two pushes (or two quilt-update-ref) racing from the same revision
exactly one wins and the other exits 2; manifests stay intact, latest names the winner, the winner is in the log'
. "$(dirname "$0")/lib.sh"

BUCKET=race-registry-$$
R="s3://$BUCKET"

# check_all_manifests: every stored manifest hashes to its name; every pointer names a stored manifest.
check_all_manifests() {
    "$QUILT_TEST_PYTHON" - "$BUCKET" >manifests.list <<'PY' || return 1
import os, sys, boto3
s3 = boto3.client("s3", endpoint_url=os.environ["QUILT_TEST_S3_ENDPOINT"])
b = sys.argv[1]
def keys(prefix):
    out = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=b, Prefix=prefix):
        out += [o["Key"] for o in page.get("Contents", [])]
    return out
ms = {k.rsplit("/", 1)[1] for k in keys(".quilt/packages/")}
bad = 0
for k in keys(".quilt/named_packages/"):
    h = s3.get_object(Bucket=b, Key=k)["Body"].read().decode()
    if h not in ms:
        print(f"pointer {k} names {h!r}, not a stored manifest", file=sys.stderr); bad += 1
for h in sorted(ms): print(h)
sys.exit(1 if bad else 0)
PY
    local h
    while read -r h; do
        quilt-cat-manifest --verify --registry "$R" "$h" >/dev/null || { echo "manifest $h is damaged"; return 1; }
    done <manifests.list
}

# winner_in_log NAME HASH: latest is HASH and some timestamp pointer holds HASH.
winner_in_log() {
    quilt-show-ref --registry "$R" "$1" >refs || return 1
    grep -q "^$2 $1 latest\$" refs || { echo "latest is not the winner $2:"; cat refs; return 1; }
    grep -v " latest\$" refs | grep -q "^$2 " || { echo "no timestamp pointer for the winner $2:"; cat refs; return 1; }
}

# race_push ROUND: two pushes of ns/race with different content from the same starting revision.
race_push() {
    local round=$1 from=() pa pb ra rb winner
    make_file "a$round/x.txt" 500 "a$round" && make_file "a$round/only-a" 10 "oa$round" &&
    make_file "b$round/x.txt" 700 "b$round" && make_file "b$round/only-b" 10 "ob$round" || return 1
    if old=$(quilt-rev-parse --registry "$R" ns/race 2>/dev/null); then from=(--from "ns/race@$old"); fi
    quilt push ns/race "a$round" "${from[@]}" --registry "$R" --message "a$round" >a.out 2>a.err & pa=$!
    quilt push ns/race "b$round" "${from[@]}" --registry "$R" --message "b$round" >b.out 2>b.err & pb=$!
    wait $pa; ra=$?
    wait $pb; rb=$?
    echo "round $round: a exit $ra, b exit $rb"
    if [ $ra -eq 0 ] && [ $rb -eq 2 ]; then winner=$(cat a.out); grep -q '^error: ' b.err || return 1
    elif [ $ra -eq 2 ] && [ $rb -eq 0 ]; then winner=$(cat b.out); grep -q '^error: ' a.err || return 1
    else cat a.err b.err; return 1
    fi
    check_all_manifests && winner_in_log ns/race "$winner" || return 1
    # The published revision has the winner's data (it also holds earlier rounds' files, from --from).
    rm -rf "got$round" && quilt install ns/race --registry "$R" --dest "got$round" >/dev/null &&
    if [ $ra -eq 0 ]; then cmp "got$round/x.txt" "a$round/x.txt"; else cmp "got$round/x.txt" "b$round/x.txt"; fi
}

# race_update_ref ROUND: two quilt-update-ref NAME NEW OLD with the same OLD.
race_update_ref() {
    local round=$1 old ha hb pa pb ra rb winner
    make_file "ua$round/f" 100 "ua$round" && make_file "ub$round/f" 100 "ub$round" || return 1
    ha=$(cd "ua$round" && quilt-hash-object --entries f | quilt-write-manifest --registry "$R" --message "ua$round") &&
    hb=$(cd "ub$round" && quilt-hash-object --entries f | quilt-write-manifest --registry "$R" --message "ub$round") || return 1
    old=$(quilt-rev-parse --registry "$R" ns/ref 2>/dev/null) || old=none
    quilt-update-ref --registry "$R" ns/ref "$ha" "$old" 2>ua.err & pa=$!
    quilt-update-ref --registry "$R" ns/ref "$hb" "$old" 2>ub.err & pb=$!
    wait $pa; ra=$?
    wait $pb; rb=$?
    echo "round $round: a exit $ra, b exit $rb"
    if [ $ra -eq 0 ] && [ $rb -eq 2 ]; then winner=$ha
    elif [ $ra -eq 2 ] && [ $rb -eq 0 ]; then winner=$hb
    else cat ua.err ub.err; return 1
    fi
    check_all_manifests && winner_in_log ns/ref "$winner"
}

test_expect_success S3 'setup' 's3_make_bucket "$BUCKET" --versioned'

for round in 1 2 3 4 5; do
    test_expect_success S3 "two pushes racing from the same revision, round $round" "race_push $round"
done

for round in 1 2 3 4 5; do
    test_expect_success S3 "two quilt-update-ref racing with the same OLD, round $round" "race_update_ref $round"
done

test_done
