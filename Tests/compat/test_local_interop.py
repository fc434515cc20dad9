"""One local registry shared by quilt3 and our porcelain, both ways (interface.md, format.md §4, §7).

What quilt3 builds, `quilt log`, `show`, `install`, `verify` and `rev-parse` read correctly; what `quilt build`
writes, quilt3's `browse`, `list_packages`, `list_package_versions`, `install` and `delete_package` agree with.
"""

from __future__ import annotations

import filecmp
import json
import os
import time
from pathlib import Path

import pytest

from conftest import run, run_ok


def make_tree(root: Path, files: dict[str, bytes]) -> Path:
    for key, data in files.items():
        p = root / key
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    return Path(os.path.realpath(root))


FILES = {
    "a.txt": b"hello\n",
    "a-b/x.csv": b"1,2\n",
    "a/b/c.json": b'{"k": 1}\n',
    "empty.bin": b"",
    "we ird/\u00fc+%.txt": "ü".encode(),
    ".hidden": b"h",
}


def quilt(*args, **kw) -> bytes:
    return run_ok("quilt", *args, **kw)


def quilt_json(*args):
    return json.loads(quilt(*args, "--json"))


@pytest.fixture
def tree(tmp_path):
    return make_tree(tmp_path / "data", FILES)


def test_quilt3_build_is_read_by_log_show_install_verify(quilt3, registry, tree, tmp_path):
    reg = "file://" + str(registry)
    pkg = quilt3.Package()
    pkg.set_dir(".", str(tree), meta={"source": "quilt3", "n": 1.5})
    pkg.set("extra/entry.txt", str(tree / "a.txt"), meta={"note": "é"})
    top1 = pkg.build("team/data", registry=reg, message="first")
    time.sleep(1.1)
    pkg.set("more.txt", str(tree / "a.txt"))
    top2 = pkg.build("team/data", registry=reg, message="second")

    log = quilt_json("log", "team/data", "--registry", str(registry))
    assert [(r["top_hash"], r["message"]) for r in log] == [(top2, "second"), (top1, "first")]
    assert run_ok("quilt-rev-parse", "--registry", str(registry), "team/data").decode().strip() == top2

    shown = quilt_json("show", "team/data@" + top1[:10], "--registry", str(registry))
    assert shown["top_hash"] == top1 and shown["message"] == "first"
    assert shown["user_meta"] == {"source": "quilt3", "n": 1.5}
    theirs = quilt3.Package.browse("team/data", registry=reg, top_hash=top1)
    assert [e["logical_key"] for e in shown["entries"]] == [k for k, _ in theirs.walk()]
    for e in shown["entries"]:
        assert e["hash"] == theirs[e["logical_key"]].hash and e["size"] == theirs[e["logical_key"]].size
    assert next(e for e in shown["entries"] if e["logical_key"] == "extra/entry.txt")["meta"] == {"user_meta": {"note": "é"}}

    dest = tmp_path / "installed"
    quilt("install", "team/data", "--registry", str(registry), "--dest", str(dest))
    for key in FILES:
        assert filecmp.cmp(tree / key, dest / key, shallow=False), key
    assert (dest / "more.txt").read_bytes() == FILES["a.txt"]
    verified = quilt_json("verify", "team/data", "--registry", str(registry), "--dir", str(dest))
    assert verified == {"ok": True, "missing": [], "modified": [], "extra": []}
    # quilt3 agrees that the directory matches, and our install recorded the same revision locally.
    assert quilt3.Package.browse("team/data", registry=reg).verify(str(dest))
    assert quilt3.Package.browse("team/data").top_hash == top2


def test_quilt_build_is_read_by_quilt3(quilt3, registry, tree, tmp_path):
    reg = "file://" + str(registry)
    top = quilt("build", "team/ours", str(tree), "--registry", str(registry), "--message", "ours",
                "--meta", '{"k": [1, 2.5, null]}').decode().strip()

    pkg = quilt3.Package.browse("team/ours", registry=reg)
    assert pkg.top_hash == top
    assert sorted(k for k, _ in pkg.walk()) == sorted(FILES)
    assert pkg.meta == {"k": [1, 2.5, None]}
    assert "team/ours" in list(quilt3.list_packages(reg))
    versions = dict(quilt3.list_package_versions("team/ours", registry=reg))
    assert versions["latest"] == top and len(versions) == 2

    # The same inputs built by quilt3 give the same top hash.
    ref = quilt3.Package()
    ref.set_dir(".", str(tree), meta={"k": [1, 2.5, None]})
    assert ref.build("team/ref", registry="file://" + str(tmp_path / "other"), message="ours") == top

    dest = tmp_path / "q3install"
    quilt3.Package.install("team/ours", registry=reg, dest=str(dest))
    for key in FILES:
        assert filecmp.cmp(tree / key, dest / key, shallow=False), key


def test_incremental_build_matches_quilt3(quilt3, registry, tree, tmp_path):
    reg = "file://" + str(registry)
    quilt("build", "team/inc", str(tree), "--registry", str(registry), "--message", "v1")
    time.sleep(1.1)  # one timestamp pointer per second, as in quilt3
    update = make_tree(tmp_path / "update", {"a.txt": b"changed\n", "new/file.txt": b"new\n"})
    ours = quilt("build", "team/inc", str(update), "--from", "team/inc", "--registry", str(registry),
                 "--message", "v2").decode().strip()

    # quilt3 push --dir semantics, locally: browse the parent, set_dir('.', DIR), build.
    pkg = quilt3.Package.browse("team/inc", registry=reg, top_hash=run_ok(
        "quilt-rev-parse", "--registry", str(registry), "team/inc").decode().strip())
    parent = quilt3.Package.browse("team/inc", registry=reg, top_hash=json.loads(
        quilt("log", "team/inc", "--registry", str(registry), "--json"))[1]["top_hash"])
    parent.set_dir(".", str(update))
    assert parent.build("team/inc", registry="file://" + str(tmp_path / "other"), message="v2") == ours
    assert pkg.top_hash == ours
    assert pkg["a.txt"].get_bytes() == b"changed\n" and pkg["a-b/x.csv"].get_bytes() == b"1,2\n"


def test_build_from_edits_a_quilt3_revision_as_quilt3_does(quilt3, registry, tree, tmp_path):
    """A revision quilt3 built (directory metadata, entry metadata, odd keys) edited by `quilt build --from` with
    --set replacing and adding keys, a directory --set onto an existing directory, and --rm of a directory and a
    file: the revision is read as a stream and merged, never loaded, and the top hash is quilt3's for the same
    edits. With a tiny memory budget the additions spill to sorted runs: the same bytes."""
    reg = "file://" + str(registry)
    base = quilt3.Package()
    base.set_dir(".", str(tree), meta={"base": True})
    base.set_dir("sub", str(tree / "a"), meta={"dir": "meta"})
    base.set("keep/é.txt", str(tree / "a.txt"), meta={"score": 1e-05, "tags": ["x"]})
    base.set("old/one.txt", str(tree / "a.txt"))
    base.set("old/two.txt", str(tree / "a.txt"))
    top = base.build("team/edit", registry=reg, message="base")
    extra = make_tree(tmp_path / "extra", {"new.txt": b"new\n", "a.txt": b"replaced\n"})
    more = make_tree(tmp_path / "more", {"b/c.json": b"{}\n", "z.txt": b"z\n"})
    args = ["build", "team/edit", "--from", f"team/edit@{top}", "--registry", str(registry), "--message", "edited",
            "--set", f"a.txt={extra / 'a.txt'}", "--set", f"fresh/new.txt={extra / 'new.txt'}",
            "--set", f"sub={more}", "--rm", "old/", "--rm", "a-b/x.csv"]
    ours = quilt(*args).decode().strip()
    spilled = run_ok("quilt", *args, env={"QUILT_MANIFEST_MEMORY_BUDGET": "64K"}).decode().strip()
    assert spilled == ours

    pkg = quilt3.Package.browse("team/edit", registry=reg, top_hash=top)
    pkg.set("a.txt", str(extra / "a.txt"))
    pkg.set("fresh/new.txt", str(extra / "new.txt"))
    pkg.set_dir("sub", str(more))
    pkg.delete("old")  # quilt3 names a directory without its slash
    pkg.delete("a-b/x.csv")
    assert pkg.build("team/edit-q3", registry="file://" + str(tmp_path / "other"), message="edited") == ours
    edited = quilt3.Package.browse("team/edit", registry=reg, top_hash=ours)
    assert [lk for lk, _ in edited.walk()] == [lk for lk, _ in pkg.walk()]
    assert edited["a.txt"].get_bytes() == b"replaced\n" and "old" not in edited.keys()

    # A removal of nothing is refused before anything is written.
    rc, out, err = run("quilt", "build", "team/edit", "--from", f"team/edit@{top}", "--registry", str(registry),
                       "--rm", "missing/")
    assert rc == 65 and "no such logical key 'missing/'" in err and not out


def test_delete_both_ways(quilt3, registry, tree):
    reg = "file://" + str(registry)
    tops = []
    for i in range(3):
        (tree / "rev.txt").write_text(str(i))
        tops.append(quilt("build", "team/del", str(tree), "--registry", str(registry), "--message", f"m{i}")
                    .decode().strip())
        time.sleep(1.1)
    # quilt3 deletes the latest revision: latest moves to the newest remaining one, and we see that.
    quilt3.delete_package("team/del", registry=reg, top_hash=tops[2])
    assert run_ok("quilt-rev-parse", "--registry", str(registry), "team/del").decode().strip() == tops[1]
    # We delete the middle one; quilt3 sees the same pointers.
    quilt("delete", "team/del", "--top-hash", tops[1][:8], "--yes", "--registry", str(registry))
    assert dict(quilt3.list_package_versions("team/del", registry=reg))["latest"] == tops[0]
    # We delete the package; quilt3 no longer lists it, and its manifests stay.
    quilt("delete", "team/del", "--yes", "--registry", str(registry))
    assert "team/del" not in list(quilt3.list_packages(reg))
    assert quilt3.Package.browse("team/del", registry=reg, top_hash=tops[0]).top_hash == tops[0]


def test_shared_default_local_registry_and_config(quilt3, tree):
    # No --registry on either side: both use quilt3's default local registry under XDG_DATA_HOME.
    top = quilt("build", "team/default", str(tree), "--message", "default").decode().strip()
    assert quilt3.Package.browse("team/default").top_hash == top
    pkg = quilt3.Package()
    pkg.set("only.txt", str(tree / "a.txt"))
    their = pkg.build("team/theirs", message="q3")
    assert run_ok("quilt-rev-parse", "team/theirs").decode().strip() == their
    assert "team/theirs" in quilt("list").decode().split("\n")
