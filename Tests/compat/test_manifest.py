"""quilt-hash-object --entries | quilt-write-manifest against quilt3's Package.build (interface.md, format.md §1–2).

For the same logical keys, files and metadata, our top hash must equal quilt3's, our stored manifest must equal
quilt3's byte for byte apart from physical keys, and quilt3 must read our manifest back unchanged.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from conftest import run_ok
from corpus import FILES, META_ALL_JSON, META_JSON, META_VALUES, MESSAGES, SMALL_FILES

ABSENT = object()  # header user_meta not set at all
PHYSICAL_KEYS = re.compile(rb'"physical_keys": \[(?:"(?:[^"\\]|\\.)*"(?:, )?)*\]')


# --- building both ways ------------------------------------------------------------------------------------------


def quilt3_build(quilt3, registry: Path, root: Path, files, *, user_meta=ABSENT, message=None, entry_meta=None,
                 dir_meta=None, set_dir_root=False) -> tuple[str, bytes]:
    """Builds with quilt3 into `registry`; returns (top hash, manifest bytes as stored)."""
    from quilt3.util import PhysicalKey

    pkg = quilt3.Package()
    if set_dir_root:
        pkg.set_dir(".", str(root), meta=None if user_meta is ABSENT else user_meta)
    else:
        for f in files:
            key = getattr(f, "key", f)
            pkg.set(key, str(root / key))
            if entry_meta and key in entry_meta:
                pkg[key].set_meta(entry_meta[key])  # (set(meta=None) would mean "no user_meta", not null)
        if user_meta is not ABSENT:
            pkg.set_meta(user_meta)
    for d, m in (dir_meta or {}).items():
        pkg[d.rstrip("/")].set_meta(m)
    top_hash = pkg.build("compat/quilt3", registry=str(PhysicalKey.from_path(str(registry))), message=message)
    return top_hash, (registry / ".quilt" / "packages" / top_hash).read_bytes()


def entry_stream(root: Path, files, *, entry_meta_json=None, dir_meta_json=None) -> bytes:
    """`quilt-hash-object --entries` for the files, with entry metadata spliced in as JSON text (kept verbatim,
    so `1E16` reaches our parser as written) and directory-metadata lines appended."""
    keys = [getattr(f, "key", f) for f in files]
    out = run_ok("quilt-hash-object", "--stdin-paths", "--entries", "--root", root,
                 input="".join(f"{root / k}\n" for k in keys))
    lines = []
    for line in out.decode().splitlines():
        entry = json.loads(line)
        text = (entry_meta_json or {}).get(entry["logical_key"])
        if text is None:
            lines.append(line)
        else:
            entry.pop("meta", None)
            lines.append(json.dumps(entry, ensure_ascii=False)[:-1] + ', "meta": {"user_meta": ' + text + "}}")
    for d, text in (dir_meta_json or {}).items():
        lines.append('{"logical_key": ' + json.dumps(d, ensure_ascii=False) + ', "meta": ' + text + "}")
    return "".join(line + "\n" for line in lines).encode()


def our_build(registry: Path, stream: bytes, *, meta_arg=None, message=None) -> tuple[str, bytes]:
    """quilt-write-manifest --registry REG [--meta …] [--message …] < stream; returns (top hash, stored bytes)."""
    args = ["--registry", registry]
    if meta_arg is not None:
        args += ["--meta", meta_arg]
    if message is not None:
        args += ["--message", message]
    out = run_ok("quilt-write-manifest", *args, input=stream).decode()
    assert re.fullmatch(r"[0-9a-f]{64}\n", out), f"not one top hash line: {out!r}"
    top_hash = out.strip()
    path = registry / ".quilt" / "packages" / top_hash
    assert path.is_file(), f"manifest not stored at {path}"
    return top_hash, path.read_bytes()


def assert_same_manifest(ours: bytes, theirs: bytes, *, same_physical_keys=True):
    """Byte-equal header line; every other line byte-equal once physical keys are blanked, and equal parsed."""
    assert ours.endswith(b"\n") and theirs.endswith(b"\n")
    ol, tl = ours.split(b"\n")[:-1], theirs.split(b"\n")[:-1]
    assert ol[0] == tl[0], "header lines differ"
    assert len(ol) == len(tl), f"{len(ol)} lines, quilt3 wrote {len(tl)}"
    for o, t in zip(ol[1:], tl[1:]):
        assert PHYSICAL_KEYS.sub(b'"physical_keys": [_]', o) == PHYSICAL_KEYS.sub(b'"physical_keys": [_]', t)
        oj, tj = json.loads(o), json.loads(t)
        if same_physical_keys:
            assert oj.get("physical_keys") == tj.get("physical_keys")
        oj.pop("physical_keys", None), tj.pop("physical_keys", None)
        assert oj == tj


def assert_quilt3_reads(quilt3, registry: Path, top_hash: str, reference):
    """quilt3 loads our manifest (Package.load and Package.browse) with the same top hash and entries."""
    with open(registry / ".quilt" / "packages" / top_hash, "rb") as f:
        loaded = quilt3.Package.load(f)
    browsed = quilt3.Package.browse("compat/ours", registry=f"file://{registry}", top_hash=top_hash)
    for pkg in (loaded, browsed):
        assert pkg.top_hash == top_hash == reference.top_hash
        assert pkg.meta == reference.meta
        assert pkg._meta == reference._meta  # the whole header, message included
        ours = [(lk, e.size, e.hash, e._meta) for lk, e in pkg.walk()]
        theirs = [(lk, e.size, e.hash, e._meta) for lk, e in reference.walk()]
        assert ours == theirs


def load(quilt3, manifest: bytes):
    import io

    return quilt3.Package.load(io.BytesIO(manifest))


# --- header: user_meta and message -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(META_JSON))
def test_header_user_meta(quilt3, corpus, tmp_path, name):
    files = SMALL_FILES[:6]
    qh, qm = quilt3_build(quilt3, tmp_path / "q", corpus.root, files, user_meta=META_VALUES[name])
    oh, om = our_build(tmp_path / "o", entry_stream(corpus.root, files), meta_arg=META_JSON[name])
    assert oh == qh
    assert_same_manifest(om, qm)


@pytest.mark.parametrize("variant", ["absent", "null", "empty-object"])
def test_header_user_meta_absent_null_empty(quilt3, corpus, tmp_path, variant):
    files = SMALL_FILES[:3]
    value, arg = {"absent": (ABSENT, None), "null": (None, "null"), "empty-object": ({}, "{}")}[variant]
    qh, qm = quilt3_build(quilt3, tmp_path / "q", corpus.root, files, user_meta=value)
    oh, om = our_build(tmp_path / "o", entry_stream(corpus.root, files), meta_arg=arg)
    assert oh == qh
    assert_same_manifest(om, qm)
    header = json.loads(om.split(b"\n")[0])
    assert ("user_meta" in header) == (variant != "absent")


def test_header_user_meta_three_hashes_differ(corpus, tmp_path):
    stream = entry_stream(corpus.root, SMALL_FILES[:2])
    hashes = {our_build(tmp_path / "o", stream, meta_arg=a)[0] for a in (None, "null", "{}")}
    assert len(hashes) == 3


def test_header_user_meta_from_file(quilt3, corpus, tmp_path):
    files = SMALL_FILES[:4]
    meta_file = tmp_path / "meta.json"
    meta_file.write_text(META_ALL_JSON + "\n", encoding="utf-8")
    qh, qm = quilt3_build(quilt3, tmp_path / "q", corpus.root, files, user_meta=json.loads(META_ALL_JSON),
                          message="all values")
    oh, om = our_build(tmp_path / "o", entry_stream(corpus.root, files), meta_arg=f"@{meta_file}",
                       message="all values")
    assert oh == qh
    assert_same_manifest(om, qm)
    assert_quilt3_reads(quilt3, tmp_path / "o", oh, load(quilt3, qm))


@pytest.mark.parametrize("message", MESSAGES, ids=repr)
def test_message(quilt3, corpus, tmp_path, message):
    files = SMALL_FILES[:2]
    qh, qm = quilt3_build(quilt3, tmp_path / "q", corpus.root, files, user_meta={"k": "v"}, message=message)
    oh, om = our_build(tmp_path / "o", entry_stream(corpus.root, files), meta_arg='{"k": "v"}', message=message)
    assert oh == qh
    assert_same_manifest(om, qm)


# --- entries -----------------------------------------------------------------------------------------------------


def test_entry_meta_every_value_kind(quilt3, corpus, tmp_path):
    names = list(META_JSON)
    files = SMALL_FILES
    meta_json = {f.key: META_JSON[names[i % len(names)]] for i, f in enumerate(files)}
    meta_values = {k: json.loads(v) for k, v in meta_json.items()}
    qh, qm = quilt3_build(quilt3, tmp_path / "q", corpus.root, files, entry_meta=meta_values, message="entry meta")
    oh, om = our_build(tmp_path / "o", entry_stream(corpus.root, files, entry_meta_json=meta_json),
                       message="entry meta")
    assert oh == qh
    assert_same_manifest(om, qm)
    assert_quilt3_reads(quilt3, tmp_path / "o", oh, load(quilt3, qm))


def test_directory_meta_lines(quilt3, corpus, tmp_path):
    files = [f for f in SMALL_FILES if f.key.startswith(("data/", "order/", "names/"))]
    dir_json = {"data/": '{"source": "é", "n": 1E2}', "order/a/": '[1, 2.50]', "names/": '"just a string"'}
    qh, qm = quilt3_build(quilt3, tmp_path / "q", corpus.root, files, message="dirs",
                          dir_meta={k: json.loads(v) for k, v in dir_json.items()})
    oh, om = our_build(tmp_path / "o", entry_stream(corpus.root, files, dir_meta_json=dir_json), message="dirs")
    assert oh == qh
    assert_same_manifest(om, qm)
    assert_quilt3_reads(quilt3, tmp_path / "o", oh, load(quilt3, qm))


def test_full_corpus_like_set_dir(quilt3, corpus, tmp_path):
    """Every corpus file (big ones, odd names, deep tree, tree order) as quilt3's set_dir('.', root) adds them:
    user_meta null, physical keys equal to quilt3's file:// URLs."""
    qh, qm = quilt3_build(quilt3, tmp_path / "q", corpus.root, FILES, set_dir_root=True)
    oh, om = our_build(tmp_path / "o", entry_stream(corpus.root, FILES), meta_arg="null")
    assert oh == qh
    assert_same_manifest(om, qm, same_physical_keys=True)
    assert_quilt3_reads(quilt3, tmp_path / "o", oh, load(quilt3, qm))


def test_tree_order_whatever_the_input_order(quilt3, corpus, tmp_path):
    files = list(reversed(FILES))
    qh, qm = quilt3_build(quilt3, tmp_path / "q", corpus.root, files)
    oh, om = our_build(tmp_path / "o", entry_stream(corpus.root, files))
    assert oh == qh
    assert_same_manifest(om, qm)
    keys = [json.loads(line)["logical_key"] for line in om.decode().splitlines()[1:]]
    order = [k for k in keys if k.startswith("order/")]
    assert order == ["order/a/b", "order/a/x", "order/a-b", "order/a.txt"]


def test_print_writes_the_manifest_and_stores_nothing(quilt3, corpus, tmp_path):
    stream = entry_stream(corpus.root, SMALL_FILES[:5])
    printed = run_ok("quilt-write-manifest", "--registry", tmp_path / "p", "--print", "--meta", "{}", input=stream)
    assert not (tmp_path / "p" / ".quilt" / "packages").exists() or not any((tmp_path / "p" / ".quilt" / "packages").iterdir())
    oh, om = our_build(tmp_path / "o", stream, meta_arg="{}")
    assert printed == om
    assert load(quilt3, printed).top_hash == oh
