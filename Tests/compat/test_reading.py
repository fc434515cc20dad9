"""Reading packages against quilt3 8.0.0: `quilt cat` gives `PackageEntry.get_bytes()`, a damaged local file
stops it with exit 65 (after only the chunks that verified), `quilt ls` names what `Package.keys()` names, and
Quilt+ URIs install and cat revisions, one of them pushed by quilt3 to moto.
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import pytest

from conftest import run, run_ok

CHUNK = 8 * 1024 * 1024
# Three chunks: two whole ones and a few bytes (generated at test time).
BIG = 2 * CHUNK + 7


def make_tree(root: Path) -> Path:
    rng = random.Random(21)
    files = {
        "README.md": b"# readme\n",
        "data/big.bin": rng.randbytes(BIG),
        "data/small.csv": b"a,b\n1,2\n",
        "data/sub/deep.json": b'{"k": 1}\n',
        "data-x/y.txt": b"y\n",
        "we ird/\u00fc+%.txt": "\u00fc".encode(),
    }
    for key, data in files.items():
        p = root / key
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    return Path(os.path.realpath(root))


def quilt(*args, **kw) -> bytes:
    return run_ok("quilt", *args, **kw)


def damage(path: Path, offset: int):
    with open(path, "r+b") as f:
        f.seek(offset)
        byte = f.read(1)
        f.seek(offset)
        f.write(bytes([byte[0] ^ 0xFF]))


@pytest.fixture
def built(quilt3, registry, tmp_path):
    tree = make_tree(tmp_path / "tree")
    pkg = quilt3.Package()
    pkg.set_dir(".", str(tree))
    reg = "file://" + str(registry)
    top = pkg.build("team/read", registry=reg, message="for reading")
    return tree, reg, top, quilt3.Package.browse("team/read", registry=reg, top_hash=top)


def test_cat_gives_get_bytes(built):
    tree, reg, top, pkg = built
    for key in ["README.md", "data/big.bin", "data/small.csv", "we ird/\u00fc+%.txt"]:
        assert quilt("cat", "team/read@" + top, key, "--registry", reg) == pkg[key].get_bytes(), key
    assert len(pkg["data/big.bin"].get_bytes()) == BIG


def test_a_damaged_local_file_exits_65_after_only_the_verified_chunks(built, tmp_path):
    tree, reg, top, pkg = built
    original = pkg["data/big.bin"].get_bytes()
    big = tree / "data/big.bin"
    args = ["cat", "team/read@" + top, "data/big.bin", "--registry", reg]
    # With the cache off nothing is known of the chunks: nothing is trusted, nothing printed.
    damage(big, BIG - 2)
    rc, out, err = run("quilt", *args)
    assert (rc, out) == (65, b"") and "'data/big.bin'" in err, err
    # With the cache on, a read of the sound file keeps its chunk digests; after the damage, the chunks before it.
    damage(big, BIG - 2)
    cache = {"QUILT_DISABLE_CACHE": "false", "XDG_CACHE_HOME": str(tmp_path / "cache")}
    assert run_ok("quilt", *args, env=cache) == original
    for offset, verified in [(BIG - 2, 2 * CHUNK), (CHUNK + 10, CHUNK), (0, 0)]:
        damage(big, offset)
        rc, out, err = run("quilt", *args, env=cache)
        assert rc == 65 and out == original[:verified], (offset, rc, len(out), err)
        assert f"chunk {verified // CHUNK + 1} of 3" in err, err
        damage(big, offset)
    assert run_ok("quilt", *args, env=cache) == original


def names(*args) -> list[str]:
    return quilt("ls", *args).decode().splitlines()


def test_ls_names_what_keys_names(built):
    tree, reg, top, pkg = built
    rev = "team/read@" + top
    root = names(rev, "--registry", reg)
    assert [n.rstrip("/") for n in root] == sorted(pkg.keys())
    assert [n for n in root if n.endswith("/")] == [k + "/" for k in sorted(pkg.keys()) if not hasattr(pkg[k], "get_bytes")]
    for directory in ["data", "data/sub", "we ird"]:
        assert [n.rstrip("/") for n in names(rev, directory, "--registry", reg)] == sorted(pkg[directory].keys())
    assert names(rev, "-r", "--registry", reg) == [k for k, _ in pkg.walk()]
    lines = [json.loads(line) for line in quilt("ls", rev, "data", "--json", "--registry", reg).splitlines()]
    for item in lines:
        if item["type"] == "file":
            entry = pkg[item["logical_key"]]
            assert item["size"] == entry.size and item["hash"] == entry.hash, item
        else:
            below = [e for _, e in pkg[item["logical_key"].rstrip("/")].walk()]
            assert item["size"] == sum(e.size for e in below) and item["files"] == len(below), item


def test_file_uris_install_and_cat(built, tmp_path):
    tree, reg, top, pkg = built
    uri = quilt("show", "team/read@" + top, "--registry", reg, "--uri").decode().strip()
    assert uri == f"quilt+{reg}#package=team/read@{top}"
    assert quilt("cat", uri + "&path=data%2Fsmall.csv") == pkg["data/small.csv"].get_bytes()
    dest = tmp_path / "sub"
    quilt("install", uri + "&path=data/sub", "--dest", str(dest))
    assert [p.name for p in dest.iterdir()] == ["deep.json"]


@pytest.mark.s3
def test_uris_of_a_quilt3_push_install_and_cat(quilt3_s3, s3_bucket, tmp_path):
    tree = make_tree(tmp_path / "tree")
    pkg = quilt3_s3.Package()
    pkg.set_dir(".", str(tree))
    pushed = pkg.push("team/theirs", registry=f"s3://{s3_bucket}", message="from quilt3", force=True)
    uri = f"quilt+s3://{s3_bucket}#package=team/theirs@{pushed.top_hash}"
    for key in ["data/big.bin", "data/small.csv", "we ird/\u00fc+%.txt"]:
        encoded = key.replace("%", "%25").replace("+", "%2B").replace(" ", "+")
        assert quilt("cat", uri + "&path=" + encoded) == pushed[key].get_bytes(), key
        assert quilt("cat", f"quilt+s3://{s3_bucket}#package=team/theirs:latest", key) == pushed[key].get_bytes()
    assert [n.rstrip("/") for n in names(uri)] == sorted(pushed.keys())
    dest = tmp_path / "installed"
    quilt("install", uri, "--dest", str(dest))
    for key, entry in pushed.walk():
        assert (dest / key).read_bytes() == entry.get_bytes(), key
    # A cold cat fills the cache as install does; then the object is read from there.
    cache = {"QUILT_DISABLE_CACHE": "false", "XDG_CACHE_HOME": str(tmp_path / "cache")}
    assert run_ok("quilt", "cat", uri, "data/big.bin", env=cache) == pushed["data/big.bin"].get_bytes()
    rc, out, err = run("quilt", "cat", uri, "data/big.bin", "-v", env=cache)
    assert rc == 0 and out == pushed["data/big.bin"].get_bytes()
    assert "GetObject" not in "\n".join(l for l in err.splitlines() if "big.bin" in l), err


@pytest.mark.s3
def test_our_push_json_uri_names_what_quilt3_browses(quilt3_s3, s3_bucket, tmp_path):
    tree = make_tree(tmp_path / "tree")
    result = json.loads(quilt("push", "team/ours", str(tree), "--registry", f"s3://{s3_bucket}", "--message", "m",
                              "--json"))
    assert result["uri"] == f"quilt+s3://{s3_bucket}#package=team/ours@{result['top_hash']}"
    browsed = quilt3_s3.Package.browse("team/ours", registry=f"s3://{s3_bucket}", top_hash=result["top_hash"])
    assert quilt("cat", result["uri"] + "&path=data/big.bin") == browsed["data/big.bin"].get_bytes()
