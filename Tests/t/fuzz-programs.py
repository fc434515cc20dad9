#!/usr/bin/env python3
"""The fuzz stage of the shell tests (t6890): the built programs run on generated hostile inputs.

    fuzz-programs.py WORKDIR [--seed N] [--runs N] [--budget SECONDS]

Inputs, from a fixed seed: bundles (real ones and hand-made ones, their tar and gzip headers, header JSON and
manifest numbers changed, cut anywhere), manifests and entry streams whose sizes sit near the 64-bit limits,
shard trailers changed, YAML workflow configs and config.yml files (alias and merge bombs, nesting, mutations),
and option and setting values. Every run is measured: it must end by itself in under 10 s, with an exit status
(never a signal), and a peak RSS under 400 MB. Prints one line per kind and a summary; exits 1 if any run broke a
bound (each such run is printed with what reproduces it). The number of runs and the time are bounded, so that CI
(2 cores, a debug build) spends a minute or two here.
"""
import argparse
import gzip
import importlib.util
import os
import random
import resource
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("hostile_bundle", os.path.join(HERE, "hostile-bundle.py"))
hostile = importlib.util.module_from_spec(spec)
spec.loader.exec_module(hostile)

TIME_LIMIT = 10.0
RSS_LIMIT_MB = 400
EDGE = [0, 1, 2**31 - 1, 2**31, 2**32, 2**50, 2**53 + 1, 2**62, 2**63 - 1, 2**63, 2**64 - 1, 2**64, 10**20, -1, 8 * 2**30,
        8 * 2**30 - 1, 5 * 2**40, 5 * 2**40 + 1]
TEXTS = ["1e15", "1e300", "-1", "inf", "nan", "-0", "9223372036854775807", "9223372036854775808", "99999999999999999999",
         "0x10", "1_000", "", " ", "1/0", "-1/4", "4/4", "auto", "auto/0", "2147483648", "1.5", "8E", "99999999999T",
         "1K", "abc", "\u00e9", "0"]


class Runner:
    def __init__(self, work):
        self.work = work
        self.env = dict(os.environ)
        self.results = []  # (kind, argv, rc, seconds, rss)
        self.broken = []

    def run(self, kind, argv, stdin=None, env=None, cwd=None):
        """Runs one program to its end (killed at TIME_LIMIT), with its own peak RSS from wait4."""
        full_env = dict(self.env)
        full_env.update(env or {})
        with open(os.path.join(self.work, ".stdin"), "wb") as f:
            f.write(stdin or b"")
        start = time.monotonic()
        with open(os.path.join(self.work, ".stdin"), "rb") as i, open(os.path.join(self.work, ".stderr"), "w+b") as e:
            p = subprocess.Popen(argv, stdin=i, stdout=subprocess.DEVNULL, stderr=e, env=full_env, cwd=cwd or self.work)
            while True:
                pid, status, usage = os.wait4(p.pid, os.WNOHANG)
                if pid:
                    break
                if time.monotonic() - start > TIME_LIMIT:
                    p.kill()
                    pid, status, usage = os.wait4(p.pid, 0)
                    status = None
                    break
                time.sleep(0.005)
            p.returncode = 0  # (reaped here: keep Popen from waiting on it again)
            e.seek(0)
            err = e.read()
        took = time.monotonic() - start
        rss = usage.ru_maxrss // 1024
        rc = "timeout" if status is None else (-os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status))
        self.results.append((kind, argv, rc, took, rss))
        bad = []
        if rc == "timeout":
            bad.append("over %d s" % TIME_LIMIT)
        elif rc < 0:
            bad.append("signal %d" % -rc)
        elif rc not in (0, 1, 64, 65):
            bad.append("exit %d (not 0, 1, 64 or 65)" % rc)
        if rss > RSS_LIMIT_MB:
            bad.append("peak RSS %d MB" % rss)
        if bad:
            self.broken.append((kind, argv, rc, ", ".join(bad), err.decode(errors="replace")[-400:]))
        return rc


def mutate_bytes(rng, data, count=None):
    data = bytearray(data)
    for _ in range(count or rng.randint(1, 4)):
        choice = rng.randrange(5)
        if choice == 0 and data:
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        elif choice == 1 and data:
            del data[rng.randrange(len(data)):]
        elif choice == 2:
            at = rng.randrange(len(data) + 1)
            data[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
        elif choice == 3 and data:
            data[rng.randrange(len(data))] = rng.choice(b"\0\xff0 \n{}[]\"")
        elif data:
            at = rng.randrange(len(data))
            data[at:at] = data[at:at + rng.randint(1, 64)] * rng.randint(1, 20)
    return bytes(data)


def pax(records):
    body = b"".join(hostile.pax_record(k, v) for k, v in records)
    return hostile.tar_header("PaxHeader/x", hostile.octal(len(body)), b"x") + hostile.pad(body)


def bundle_cases(rng, r, real):
    """Hostile bundles into verify and unbundle."""
    with gzip.open(real, "rb") as f:
        tar = f.read()
    for n in range(rng.randint(50, 60)):
        kind = rng.randrange(6)
        if kind == 0:  # a header's size field, checksum right or wrong
            data = bytearray(tar)
            block = rng.randrange(len(data) // 512) * 512
            data[block + 124:block + 136] = rng.choice([b"77777777777\0", b"00000000000\0", b"99999999999\0",
                                                         b"\x80\0\0\0\0\0\0\xff\xff\xff\xff\xff", b"-0000000001\0"])
            if rng.random() < 0.7:
                data[block + 148:block + 156] = b" " * 8
                data[block + 148:block + 156] = b"%06o\0 " % sum(data[block:block + 512])
            body = gzip.compress(bytes(data), mtime=0)
        elif kind == 1:  # a pax record in front of a member
            data = bytearray(tar)
            block = rng.randrange(len(data) // 512) * 512
            data[block:block] = pax([("size", str(rng.choice(EDGE)))] + ([("path", "x" * rng.randint(0, 300))] if rng.random() < 0.3 else []))
            body = gzip.compress(bytes(data), mtime=0)
        elif kind == 2:  # numbers in the header JSON and the manifest at the edges
            text = tar
            for field in (b'"bytes": ', b'"entries": ', b'"objects": ', b'"size": '):
                at = text.find(field)
                if at >= 0 and rng.random() < 0.6:
                    end = at + len(field)
                    stop = end
                    while stop < len(text) and text[stop:stop + 1].isdigit():
                        stop += 1
                    text = text[:end] + str(rng.choice(EDGE)).encode() + text[stop:]
            body = gzip.compress(text, mtime=0)
        elif kind == 3:  # the tar bytes changed anywhere
            body = gzip.compress(mutate_bytes(rng, tar), mtime=0)
        elif kind == 4:  # the gzip bytes changed or cut (header flags, CRC, length)
            body = mutate_bytes(rng, gzip.compress(tar, mtime=0))
        else:  # a hand-made bundle: hostile keys, a huge manifest member or object, sizes past the sum
            path = os.path.join(r.work, "hand.qb")
            which = rng.randrange(4)
            if which == 0:
                hostile.main_args(["keys", path, rng.choice(["../../escape.txt", "/abs/x", "a/../../x", "ok/./x", "..", "a//b"]), "ok.txt"])
            elif which == 1:
                hostile.main_args(["manifest-size", path, rng.choice(["ustar", str(rng.choice(EDGE[1:12]))])])
            elif which == 2:
                hostile.main_args(["object", path, str(rng.choice([2**62, 2**50, 64 * 2**20, 9 * 2**30])), str(rng.randint(0, 3 * 2**20))])
            else:
                hostile.main_args(["sizes", path] + [str(rng.choice(EDGE[1:10])) for _ in range(rng.randint(1, 4))])
            with open(path, "rb") as f:
                body = f.read()
        registry = os.path.join(r.work, "unbundled-%d" % n)
        r.run("bundle verify", ["quilt", "bundle", "verify", "-"], stdin=body)
        if rng.random() < 0.4:
            r.run("bundle unbundle", ["quilt", "bundle", "unbundle", "-", "--registry", registry], stdin=body)
            shutil.rmtree(registry, ignore_errors=True)


def manifest_cases(rng, r):
    """Revisions and entry streams whose sizes sit near 64 bits, and shard trailers changed."""
    registry = os.path.join(r.work, "sizes-reg")
    for n in range(rng.randint(25, 30)):
        sizes = [rng.choice(EDGE[:12]) for _ in range(rng.randint(1, 4))]
        name = "t/s%d" % n
        top = subprocess.run([sys.executable, os.path.join(HERE, "hostile-bundle.py"), "registry", registry, name]
                             + [str(s) for s in sizes], capture_output=True, check=True).stdout.decode().strip()
        with open(os.path.join(registry, ".quilt", "packages", top), "rb") as f:
            stream = f.read()
        command = rng.choice([["quilt", "show", name], ["quilt", "show", "--json", name], ["quilt-cat-manifest", "--verify", name],
                              ["quilt", "install", name, "--dest", os.path.join(r.work, "inst-%d" % n)],
                              ["quilt", "bundle", "create", name, os.path.join(r.work, "b-%d.qb" % n)],
                              ["quilt", "build", "t/copy%d" % n, "--from", name]])
        r.run("manifest sizes", command + ["--registry", registry])
        r.run("entry-stream sizes", rng.choice([["quilt-write-manifest", "--print"], ["quilt-fetch-blob", "--dest", os.path.join(r.work, "f-%d" % n)]]),
              stdin=stream)
    # Shard parts with their trailers changed.
    data = os.path.join(r.work, "tree")
    os.makedirs(data, exist_ok=True)
    for i in range(12):
        with open(os.path.join(data, "f%d" % i), "w") as f:
            f.write("%d\n" % i)
    paths = "\n".join(os.path.join(data, "f%d" % i) for i in range(12)).encode()
    parts = [subprocess.run(["quilt-hash-object", "--stdin-paths", "--entries", "--root", data, "--shard", "%d/3" % k],
                            input=paths, capture_output=True, check=True).stdout for k in range(3)]
    for n in range(rng.randint(15, 20)):
        chosen = [mutate_bytes(rng, p) if rng.random() < 0.4 else p for p in parts if rng.random() < 0.9]
        files = []
        for i, p in enumerate(chosen):
            path = os.path.join(r.work, "part-%d-%d.jsonl" % (n, i))
            with open(path, "wb") as f:
                f.write(p)
            files.append(path)
        r.run("shard parts", ["quilt-write-manifest", "--print"] + files)


def bomb(rng):
    width, depth = rng.randint(2, 12), rng.randint(3, 12)
    merge = rng.random() < 0.4
    lines = ["a0: &a0 {k: v}" if merge else "a0: &a0 [%s]" % ",".join(['"lol"'] * width)]
    for level in range(1, depth):
        refs = ", ".join(["*a%d" % (level - 1)] * width)
        lines.append("a%d: &a%d {<<: [%s], x: 1}" % (level, level, refs) if merge else "a%d: &a%d [%s]" % (level, level, refs))
    return "\n".join(lines) + "\n"


def yaml_cases(rng, r):
    """Workflow configs and config.yml files."""
    data = os.path.join(r.work, "tree")
    seeds = ['version: "1"\nis_workflow_required: false\nworkflows:\n  a:\n    name: A\n', bomb(rng),
             "a: " + "[" * rng.randint(900, 1100) + "1" + "]" * rng.randint(900, 1100) + "\n"]
    for n in range(rng.randint(25, 30)):
        text = rng.choice([bomb(rng), mutate_bytes(rng, rng.choice(seeds).encode()).decode(errors="replace")])
        registry = os.path.join(r.work, "yaml-reg-%d" % (n % 3))
        os.makedirs(os.path.join(registry, ".quilt", "workflows"), exist_ok=True)
        with open(os.path.join(registry, ".quilt", "workflows", "config.yml"), "w") as f:
            f.write(text)
        r.run("workflows config", ["quilt", "build", "t/y", data, "--registry", registry])
        if rng.random() < 0.4:
            home = os.path.join(r.work, "yaml-home-%d" % n)
            os.makedirs(os.path.join(home, "Quilt"), exist_ok=True)
            with open(os.path.join(home, "Quilt", "config.yml"), "w") as f:
                f.write(text)
            r.run("config.yml", ["quilt", "config"], env={"XDG_DATA_HOME": home})


def option_cases(rng, r):
    """Option and setting values."""
    data = os.path.join(r.work, "tree")
    def value():
        v = rng.choice(TEXTS)
        return v + rng.choice(TEXTS) if rng.random() < 0.2 else v
    settings = ["QUILT_S3_CONNECT_TIMEOUT", "QUILT_S3_REQUEST_TIMEOUT", "QUILT_S3_STALL_TIMEOUT", "QUILT_S3_MAX_ATTEMPTS",
                "QUILT_TRANSFER_MAX_CONCURRENCY", "QUILT_MANIFEST_MAX_RECORD_SIZE", "QUILT_MULTIPART_THRESHOLD",
                "QUILT_MANIFEST_MEMORY_BUDGET", "QUILT_SHARD_INDEX", "QUILT_SHARD_COUNT", "SLURM_ARRAY_TASK_ID",
                "SLURM_ARRAY_TASK_MIN", "SLURM_ARRAY_TASK_STEP", "SLURM_ARRAY_TASK_COUNT", "AWS_BATCH_JOB_ARRAY_INDEX"]
    for n in range(rng.randint(40, 45)):
        env = {name: value() for name in settings if rng.random() < 0.2}
        command = rng.choice([
            ["quilt", "cache", "prune", "--older-than", value()], ["quilt", "cache", "prune", "--max-size", value()],
            ["quilt-hash-object", "--entries", "--root", data, "--shard", value(), os.path.join(data, "f1")],
            ["quilt-hash-object", "--entries", "--root", data, "--shard", "auto", os.path.join(data, "f1")],
            ["quilt", "bundle", "create", "--level", value(), "t/x", os.path.join(r.work, "x.qb")],
            ["quilt", "config", rng.choice(["requests_timeout", "max_pool_connections", "multipart_threshold",
                                            "multipart_chunksize", "cache_max_size"]), value()],
            ["quilt", "build", "t/opt", data, "--registry", os.path.join(r.work, "opt-reg")]])
        r.run("option values", command, env=env, cwd=r.work)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("work")
    p.add_argument("--seed", type=int, default=26)
    p.add_argument("--budget", type=float, default=240, help="stop starting new kinds after this many seconds")
    a = p.parse_args()
    rng = random.Random(a.seed)
    r = Runner(a.work)
    start = time.monotonic()
    real = os.path.join(a.work, "real.qb")
    tree = os.path.join(a.work, "tree")
    os.makedirs(tree, exist_ok=True)
    for i, size in enumerate([0, 6, 3000, 70000]):
        with open(os.path.join(tree, "f%d" % i), "wb") as f:
            f.write(random.Random(i).randbytes(size))
    reg = os.path.join(a.work, "real-reg")
    subprocess.run(["quilt", "build", "t/real", tree, "--registry", reg], check=True, capture_output=True)
    subprocess.run(["quilt", "bundle", "create", "t/real", real, "--registry", reg], check=True, capture_output=True)
    for name, cases in [("bundles", lambda: bundle_cases(rng, r, real)), ("manifests", lambda: manifest_cases(rng, r)),
                        ("yaml", lambda: yaml_cases(rng, r)), ("options", lambda: option_cases(rng, r))]:
        if time.monotonic() - start > a.budget:
            print("fuzz: time budget spent before %s" % name)
            break
        cases()
    kinds = {}
    for kind, _, rc, took, rss in r.results:
        k = kinds.setdefault(kind, [0, 0, 0.0, 0])
        k[0] += 1
        k[1] += 1 if rc != 0 else 0
        k[2] = max(k[2], took)
        k[3] = max(k[3], rss)
    for kind, (runs, refused, slowest, rss) in sorted(kinds.items()):
        print("fuzz %-20s %4d runs, %4d refused, slowest %.2f s, peak RSS %d MB" % (kind, runs, refused, slowest, rss))
    signals = sum(1 for b in r.broken if isinstance(b[2], int) and b[2] < 0)
    slow = sum(1 for b in r.broken if "over" in b[3])
    print("fuzz: %d runs in %.0f s (seed %d): %d broke a bound (%d signals, %d over %d s), peak RSS %d MB"
          % (len(r.results), time.monotonic() - start, a.seed, len(r.broken), signals, slow, TIME_LIMIT,
             max((x[4] for x in r.results), default=0)))
    for kind, argv, rc, why, err in r.broken[:20]:
        print("BROKEN %s: %s (%s)\n  %s" % (kind, " ".join(argv)[:300], why, err.replace("\n", "\n  ")))
    sys.exit(1 if r.broken else 0)


if __name__ == "__main__":
    main()
