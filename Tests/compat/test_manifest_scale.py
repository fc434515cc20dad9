"""Manifests in bounded memory (Documentation/performance.md, issue #12) against quilt3.

quilt-write-manifest keeps entries as lines in a spool and, past QUILT_MANIFEST_MEMORY_BUDGET, sorts them in runs on
disk that are merged when the manifest is written. Forcing a small budget (runs of about 10,000 entries over 50,000
entries) must give the same top hash and the same bytes as the default budget (one run, in memory) and as quilt3
loading the same entries, and the streaming readers must read that manifest back as quilt3 does.
"""

from __future__ import annotations

import json
import random
import re

import pytest

from conftest import run, run_ok

COUNT = 50_000
# About 330 bytes per entry held (line and index): runs of roughly 10,000 entries.
SMALL_BUDGET = "3M"


def scale_entries(quilt3):
    """COUNT entry lines in random order, meant to be hard to sort and to write: long shared prefixes (past the 16
    key bytes the index holds), siblings around '/' in tree order, keys needing escapes, astral characters and
    0x7F, metadata with floats, big integers and falsy values, three hash types in both key orders, fields in any
    order; and directory-metadata lines. Physical keys are in quilt3's encoding, so its dump repeats them."""
    from quilt3.util import PhysicalKey

    rnd = random.Random(12)
    keys = []
    for i in range(COUNT):
        kind = i % 10
        if kind == 0:
            keys.append(f"deep/shared/prefix/longer/than/sixteen/bytes/part-{i:06d}.parquet")
        elif kind == 1:
            keys.append(f"t{i % 500}/x{i}")  # t7/x… sorts before t7-… and t7.…
        elif kind == 2:
            keys.append(f"t{i % 500}-{i}")
        elif kind == 3:
            keys.append(f"t{i % 500}.{i}")
        elif kind == 4:
            keys.append(f"Ünïcode/日本語/{i}/🙂{i}.bin")
        elif kind == 5:
            keys.append(f'odd/quote"back\\slash\ttab\x7fdel-{i}')
        elif kind == 6:
            keys.append(f"a b/{i % 97}/{i}")
        else:
            keys.append(f"{['scan', 'sample', 'reads'][i % 3]}/{i % 997:03d}/{(i * 7919) % 1009:04d}/f{i}.csv")
    lines = []
    for i, key in enumerate(keys):
        if i % 2:
            pk = str(PhysicalKey("data-lake", key, f"v{i}+/="))
        else:
            pk = str(PhysicalKey(None, "/mnt/data/" + key, None))
        htype = ["sha2-256-chunked", "SHA256", "CRC64NVME"][i % 3]
        value = {"sha2-256-chunked": f"{i:043d}=", "SHA256": f"{i:064x}", "CRC64NVME": f"{i:011d}="}[htype]
        hash_ = {"value": value, "type": htype} if i % 11 == 0 else {"type": htype, "value": value}
        meta_text = "{}"
        if i % 7 == 0:
            meta_text = ('{"user_meta": {"score": %r, "big": %d, "exp": 1E5, "tiny": 1e-05, "neg": -0.0, '
                         '"text": "é\\u00e9🙂", "list": [1, 2.50, null, true]}}' % (rnd.random(), 2**70 + i))
        elif i % 13 == 0:
            meta_text = rnd.choice(["null", "[]", '""', "0", "false"])
        fields = [f'"logical_key": {json.dumps(key, ensure_ascii=False)}', f'"physical_keys": [{json.dumps(pk)}]',
                  f'"size": {rnd.randrange(0, 1 << 40)}', f'"hash": {json.dumps(hash_)}', f'"meta": {meta_text}']
        if i % 17 == 0:
            rnd.shuffle(fields)
        lines.append("{" + ", ".join(fields) + "}")
    for d, meta in (("t7/", '{"owner": "ana"}'), ("deep/shared/", '{"n": [1.0, 2]}'), ("Ünïcode/", '{"x": "é"}'),
                    ("a b/", "{}")):
        lines.append('{"logical_key": ' + json.dumps(d, ensure_ascii=False) + ', "meta": ' + meta + "}")
    rnd.shuffle(lines)
    return "".join(line + "\n" for line in lines).encode()


@pytest.fixture(scope="module")
def stream(quilt3):
    return scale_entries(quilt3)


@pytest.fixture(scope="module")
def quilt3_manifest(quilt3, stream, tmp_path_factory):
    """quilt3 loading the entries as a manifest and building it: (top hash, stored bytes)."""
    import io

    from quilt3.util import PhysicalKey

    registry = tmp_path_factory.mktemp("q3-registry")
    pkg = quilt3.Package._load(io.StringIO('{"version": "v0"}\n' + stream.decode()))
    top_hash = pkg.build("scale/quilt3", registry=str(PhysicalKey.from_path(str(registry))), message="m")
    return top_hash, (registry / ".quilt" / "packages" / top_hash).read_bytes()


def write(registry, stream, budget=None):
    env = {"QUILT_MANIFEST_MEMORY_BUDGET": budget} if budget else None
    out = run_ok("quilt-write-manifest", "--registry", registry, "--message", "m", input=stream, env=env).decode()
    assert re.fullmatch(r"[0-9a-f]{64}\n", out), out
    top_hash = out.strip()
    return top_hash, (registry / ".quilt" / "packages" / top_hash).read_bytes()


def test_sorted_runs_give_the_in_memory_bytes_and_quilt3s(stream, quilt3_manifest, tmp_path):
    spilled = write(tmp_path / "small", stream, SMALL_BUDGET)
    in_memory = write(tmp_path / "default", stream)
    assert spilled[0] == in_memory[0] == quilt3_manifest[0]
    assert spilled[1] == in_memory[1], "the spilled runs and the in-memory run write different bytes"
    assert spilled[1] == quilt3_manifest[1], "our manifest is not byte for byte quilt3's"


def test_print_with_sorted_runs(stream, quilt3_manifest):
    out = run_ok("quilt-write-manifest", "--print", "--message", "m", input=stream,
                 env={"QUILT_MANIFEST_MEMORY_BUDGET": SMALL_BUDGET})
    assert out == quilt3_manifest[1]


def test_duplicates_and_collisions_across_runs_are_refused(stream, tmp_path):
    lines = stream.decode().splitlines(keepends=True)
    first = next(line for line in lines if "/part-" in line)
    # The copy lands in another run than the original (the input is shuffled, the runs are ~10,000 lines).
    rc, out, err = run("quilt-write-manifest", "--registry", tmp_path / "dup", input="".join([first] + lines).encode(),
                       env={"QUILT_MANIFEST_MEMORY_BUDGET": SMALL_BUDGET})
    assert rc == 65 and "duplicate logical key" in err, err
    assert not (tmp_path / "dup" / ".quilt" / "packages").exists() or not any((tmp_path / "dup" / ".quilt" / "packages").iterdir())
    entry = json.loads(first)
    entry["logical_key"] = entry["logical_key"].rsplit("/", 1)[0]  # a file where a directory of other files is
    collision = "".join(lines + [json.dumps(entry, ensure_ascii=False) + "\n"]).encode()
    rc, out, err = run("quilt-write-manifest", "--print", input=collision, env={"QUILT_MANIFEST_MEMORY_BUDGET": SMALL_BUDGET})
    assert rc == 65 and "passes through the file entry" in err and out == b"", err


def test_streaming_readers_agree_with_quilt3(quilt3, stream, tmp_path):
    """show --json, cat-manifest --verify and diff read the spilled manifest back as quilt3 browses it."""
    from quilt3.util import PhysicalKey

    registry = tmp_path / "reg"
    top_hash, stored = write(registry, stream, SMALL_BUDGET)
    assert run_ok("quilt-cat-manifest", "--registry", registry, "--verify", top_hash) == stored
    shown = json.loads(run_ok("quilt", "show", "--json", top_hash, "--registry", registry,
                              env={"QUILT_MANIFEST_MEMORY_BUDGET": SMALL_BUDGET}))
    pkg = quilt3.Package.browse("scale/x", registry=str(PhysicalKey.from_path(str(registry))), top_hash=top_hash)
    expected = [(lk, entry.size, entry.hash, entry._meta) for lk, entry in pkg.walk()]
    assert [(e["logical_key"], e["size"], e["hash"], e["meta"]) for e in shown["entries"]] == expected

    # A second revision: one entry in a hundred changed, deleted or added.
    lines = stream.decode().splitlines()
    changed = []
    for n, line in enumerate(lines):
        entry = json.loads(line)
        if "physical_keys" not in entry or n % 100 not in (1, 2):
            changed.append(line)
        elif n % 100 == 1:
            entry["size"] += 1
            changed.append(json.dumps(entry, ensure_ascii=False))
    for n in range(500):
        changed.append(json.dumps({"logical_key": f"new/{n}", "physical_keys": ["s3://b/new"], "size": n,
                                   "hash": {"type": "SHA256", "value": f"{n:064x}"}, "meta": {}}))
    second, _ = write(registry, ("\n".join(changed) + "\n").encode(), SMALL_BUDGET)
    diff = json.loads(run_ok("quilt", "diff", "--json", top_hash, second, "--registry", registry))
    other = quilt3.Package.browse("scale/x", registry=str(PhysicalKey.from_path(str(registry))), top_hash=second)
    added, modified, deleted = pkg.diff(other)
    assert (diff["added"], diff["modified"], diff["deleted"]) == (added, modified, deleted)
    assert len(added) == 500 and len(modified) > 100 and len(deleted) > 100
