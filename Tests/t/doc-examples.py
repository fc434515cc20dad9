#!/usr/bin/env python3
"""Runs the examples of one Documentation page and checks their output, so that no page shows what the programs
do not do.

    doc-examples.py PAGE.md WORKDIR

Every ```sh block of the page runs, in order, in one bash (so a block may use what an earlier one set up; the
pages' first block makes a scratch HOME), with the working directory WORKDIR and TMPDIR inside it. A ```text block
right after a ```sh block is the output that block must print (standard output and standard error together, as on
a terminal): compared line by line after normalising what varies from run to run (Unix timestamps, UTC dates,
mktemp names), with `…` standing for any text within a line, and a line of `…` alone for any number of lines. A
block with no output shown must exit 0. A block whose first line is `# needs S3` runs only when
QUILT_TEST_S3_ENDPOINT is set; its s3://BUCKET names get a suffix of this run (and the buckets are made, versioned)
so pages and runs do not share state, and the suffix is taken out of the output again.

Exit status 0 when every block ran as shown, 1 when one did not (the differences are printed), 2 when the page has
no ```sh block.
"""
import os
import random
import re
import subprocess
import sys

FENCE = re.compile(r"^(\s*)```(\S*)\s*$")
BUCKET = re.compile(r"s3://([a-z0-9][a-z0-9.-]*[a-z0-9])")


def blocks(text):
    """(language, first line number, lines) of each fenced block."""
    lines = text.split("\n")
    found = []
    i = 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if match:
            indent = len(match.group(1))
            j = i + 1
            while j < len(lines) and not lines[j].strip().startswith("```"):
                j += 1
            body = [line[indent:] if line[:indent].strip() == "" else line for line in lines[i + 1:j]]
            found.append((match.group(2), i + 1, body))
            i = j + 1
        else:
            i += 1
    return found


def examples(text):
    """(line number, script, expected output or None) for each ```sh block."""
    found = blocks(text)
    result = []
    for k, (language, number, body) in enumerate(found):
        if language != "sh":
            continue
        expected = None
        if k + 1 < len(found) and found[k + 1][0] == "text" and follows(text, number, body, found[k + 1][1]):
            expected = found[k + 1][2]
        result.append((number, body, expected))
    return result


def follows(text, number, body, next_number):
    """Whether only blank lines stand between the end of the block at `number` and the one at `next_number`."""
    lines = text.split("\n")
    end = number + len(body) + 1
    return all(not line.strip() for line in lines[end:next_number - 1])


def normalise(line, tmpdir):
    line = line.replace(tmpdir + "/tmp.", "/tmp/tmp.")
    line = re.sub(r"/tmp/tmp\.[A-Za-z0-9]+", "/tmp/tmp.XXXX", line)
    line = re.sub(r"\b\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\b", "<date>", line)
    line = re.sub(r"\b1[5-9]\d{8}\b", "<timestamp>", line)
    return line.rstrip()


def matches(expected, actual):
    """`…` matches any text within a line; a line of `…` alone, any number of lines."""
    def line_pattern(line):
        return re.compile("^" + ".*".join(re.escape(part) for part in line.split("…")) + "$")

    def match(e, a):
        if e == len(expected):
            return a == len(actual)
        if expected[e].strip() == "…":
            return any(match(e + 1, k) for k in range(a, len(actual) + 1))
        return a < len(actual) and line_pattern(expected[e]).match(actual[a]) is not None and match(e + 1, a + 1)

    return match(0, 0)


def make_buckets(names):
    import boto3
    s3 = boto3.client("s3", endpoint_url=os.environ["QUILT_TEST_S3_ENDPOINT"])
    for name in names:
        try:
            s3.create_bucket(Bucket=name)
        except s3.exceptions.BucketAlreadyOwnedByYou:
            pass
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})


def main(page, workdir):
    text = open(page, encoding="utf-8").read()
    runs = examples(text)
    if not runs:
        print(f"{page}: no sh examples")
        return 2
    have_s3 = bool(os.environ.get("QUILT_TEST_S3_ENDPOINT"))
    suffix = "-%d-%d" % (os.getpid(), random.randrange(1 << 30))
    tmpdir = os.path.join(workdir, "tmp")
    os.makedirs(tmpdir, exist_ok=True)
    tmpdir = os.path.realpath(tmpdir)

    driver = ["cd " + shell_quote(workdir)]
    selected = []
    buckets = set()
    for k, (number, body, expected) in enumerate(runs):
        script = "\n".join(body) + "\n"
        if body and body[0].strip() == "# needs S3":
            if not have_s3:
                print(f"{page}:{number}: skipped (needs S3)")
                continue
            names = set(BUCKET.findall(script))
            buckets |= {name + suffix for name in names}
            for name in sorted(names, key=len, reverse=True):
                script = re.sub(r"s3://" + re.escape(name) + r"\b", "s3://" + name + suffix, script)
        path = os.path.join(workdir, f".example-{k}.sh")
        with open(path, "w", encoding="utf-8") as f:
            f.write(script)
        out = os.path.join(workdir, f".example-{k}.out")
        driver.append(f"{{ . {shell_quote(path)}; }} >{shell_quote(out)} 2>&1 </dev/null; "
                      f"echo $? >{shell_quote(out)}.rc")
        selected.append((k, number, expected, out))
    if buckets:
        make_buckets(sorted(buckets))

    environment = dict(os.environ, TMPDIR=tmpdir)
    subprocess.run(["bash", "-c", "\n".join(driver)], env=environment, stdin=subprocess.DEVNULL, timeout=600)

    failed = 0
    for k, number, expected, out in selected:
        try:
            output = open(out, encoding="utf-8", errors="replace").read()
            status = int(open(out + ".rc").read().strip())
        except (OSError, ValueError):
            print(f"{page}:{number}: did not run (an earlier block ended the shell)")
            failed += 1
            continue
        output = output.replace(suffix, "")
        actual = [normalise(line, tmpdir) for line in output.split("\n")]
        while actual and actual[-1] == "":
            actual.pop()
        if expected is None:
            if status != 0:
                print(f"{page}:{number}: exit status {status}, and the page shows no output for it:")
                print("\n".join("    " + line for line in actual))
                failed += 1
            continue
        wanted = [normalise(line, tmpdir) for line in expected]
        while wanted and wanted[-1] == "":
            wanted.pop()
        if not matches(wanted, actual):
            print(f"{page}:{number}: the output differs from the page's")
            print("  page shows:")
            print("\n".join("    " + line for line in wanted))
            print("  programs print (exit status %d):" % status)
            print("\n".join("    " + line for line in actual))
            failed += 1
    print(f"{page}: {len(selected)} examples run, {failed} failed")
    return 1 if failed else 0


def shell_quote(text):
    return "'" + text.replace("'", "'\\''") + "'"


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print("usage: doc-examples.py PAGE.md WORKDIR", file=sys.stderr)
        sys.exit(64)
    sys.exit(main(sys.argv[1], os.path.abspath(sys.argv[2])))
