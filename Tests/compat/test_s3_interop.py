"""One S3 registry (moto) shared by quilt3 8.0.0 and our porcelain, both ways (interface.md; format.md §4, §6, §7).

What `quilt push` writes, quilt3 browses, installs, verifies and lists; what quilt3 pushes (files of 8 MiB and more
included, through the `quilt3_s3` checksum hook), `quilt show/install/verify` read and `quilt push --from` updates.
Also: physical keys and their quoting, the copy rule, --dedupe, the conflict check, manifest-only publishing and
the error messages for a missing bucket and wrong credentials.
"""

from __future__ import annotations

import filecmp
import json
import os
import random
import time
import uuid
from pathlib import Path

import pytest

from conftest import run, run_ok

pytestmark = pytest.mark.s3

MiB = 1024 * 1024

SMALL = {
    "a.txt": b"hello\n",
    "sub/dir/c.json": b'{"k": 1}\n',
    "empty.bin": b"",
    "kb.bin": bytes(range(256)) * 8,  # 2048 bytes: above quilt3's 1024-byte reuse threshold
}
# Keys that need quoting in a physical key: a space, '+', '%' and non-ASCII.
ODD = {
    "we ird/a b.txt": b"space\n",
    "plus+sign.txt": b"plus\n",
    "100%.txt": b"percent\n",
    "unicodé/ü€.txt": "ü".encode(),
}


def make_tree(root: Path, files: dict[str, bytes], big: bool = False) -> Path:
    for key, data in files.items():
        p = root / key
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    if big:  # 2 and 3 parts of 8 MiB: the multipart paths of every client
        rng = random.Random(str(root))
        (root / "big").mkdir(exist_ok=True)
        (root / "big" / "8m+1.bin").write_bytes(rng.randbytes(8 * MiB + 1))
        (root / "big" / "16m+3.bin").write_bytes(rng.randbytes(16 * MiB + 3))
    return Path(os.path.realpath(root))


def tree_keys(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def quilt(*args, **kw) -> bytes:
    return run_ok("quilt", *args, **kw)


def quilt_json(*args, **kw):
    return json.loads(quilt(*args, "--json", **kw))


def local_hash(path: Path) -> dict:
    value = run_ok("quilt-hash-object", str(path)).decode().strip()
    return {"type": "sha2-256-chunked", "value": value}


def manifest_entries(bucket: str, rev: str) -> list[dict]:
    lines = run_ok("quilt-cat-manifest", "--registry", f"s3://{bucket}", rev).decode().splitlines()
    return [json.loads(line) for line in lines[1:]]


def all_versions(s3, bucket: str) -> list[tuple[str, str]]:
    """Every (key, version id) in the bucket, delete markers included."""
    out = []
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        for v in page.get("Versions", []) + page.get("DeleteMarkers", []):
            out.append((v["Key"], v["VersionId"]))
    return sorted(out)


def assert_same_files(a: Path, b: Path, keys):
    for key in keys:
        assert filecmp.cmp(a / key, b / key, shallow=False), key


# --- what we push, quilt3 reads ----------------------------------------------------------------------------------


def test_our_push_is_browsed_installed_verified_listed_by_quilt3(quilt3_s3, s3, s3_bucket, tmp_path):
    q3 = quilt3_s3
    reg = f"s3://{s3_bucket}"
    tree = make_tree(tmp_path / "data", SMALL, big=True)
    keys = tree_keys(tree)
    meta = {"source": "ours", "n": [1, 2.5, None]}

    pushed = quilt_json("push", "team/ours", str(tree), "--registry", reg, "--message", "first",
                        "--meta", json.dumps(meta))
    assert set(pushed) >= {"name", "top_hash", "registry", "timestamp"}
    assert pushed["name"] == "team/ours" and pushed["registry"] == reg and len(pushed["top_hash"]) == 64
    top = pushed["top_hash"]

    pkg = q3.Package.browse("team/ours", registry=reg)
    assert pkg.top_hash == top
    assert sorted(k for k, _ in pkg.walk()) == keys
    assert pkg.meta == meta
    for key in keys:
        assert pkg[key].hash == local_hash(tree / key), key
        assert pkg[key].size == (tree / key).stat().st_size, key

    # The same inputs built by quilt3 give the same top hash (physical keys are not part of it).
    ref = q3.Package()
    ref.set_dir(".", str(tree), meta=meta)
    assert ref.build("team/ref", registry="file://" + str(tmp_path / "ref-registry"), message="first") == top

    dest = tmp_path / "q3-installed"
    q3.Package.install("team/ours", registry=reg, dest=str(dest))
    assert_same_files(tree, dest, keys)
    assert q3.Package.browse("team/ours", registry=reg).verify(str(dest))

    assert "team/ours" in list(q3.list_packages(reg))
    versions = dict(q3.list_package_versions("team/ours", registry=reg))
    assert versions == {"latest": top, str(pushed["timestamp"]): top}

    # Our own readers agree.
    log = quilt_json("log", "team/ours", "--registry", reg)
    assert [(r["top_hash"], r["message"]) for r in log] == [(top, "first")]
    assert quilt_json("list", "--registry", reg) == ["team/ours"]


def test_push_physical_keys_are_versioned_and_quoted_like_quilt3(quilt3_s3, s3, s3_bucket, tmp_path):
    q3 = quilt3_s3
    reg = f"s3://{s3_bucket}"
    tree = make_tree(tmp_path / "data", {**SMALL, **ODD}, big=True)
    top = quilt_json("push", "team/keys", str(tree), "--registry", reg)["top_hash"]

    entries = {e["logical_key"]: e for e in manifest_entries(s3_bucket, "team/keys@" + top)}
    assert sorted(entries) == tree_keys(tree)
    for key, entry in entries.items():
        s3_key = f"team/keys/{key}"
        head = s3.head_object(Bucket=s3_bucket, Key=s3_key)
        assert head["ContentLength"] == (tree / key).stat().st_size, key
        version = head["VersionId"]
        # Exactly quilt3's spelling: quote('/' + key) and urlencode({'versionId': …}).
        expected = str(q3.util.PhysicalKey(s3_bucket, s3_key, version))
        assert entry["physical_keys"] == [expected], key
        assert entry["hash"] == local_hash(tree / key), key
        body = s3.get_object(Bucket=s3_bucket, Key=s3_key, VersionId=version)["Body"].read()
        assert body == (tree / key).read_bytes(), key

    pkg = q3.Package.browse("team/keys", registry=reg)
    for key in ODD:
        pk = pkg[key].physical_key
        assert (pk.bucket, pk.path) == (s3_bucket, f"team/keys/{key}")
        assert pkg[key].get_bytes() == ODD[key]


def test_push_dest_prefix(quilt3_s3, s3, s3_bucket, tmp_path):
    reg = f"s3://{s3_bucket}"
    tree = make_tree(tmp_path / "data", SMALL)
    top = quilt_json("push", "team/dest", str(tree), "--registry", reg, "--dest", f"{reg}/elsewhere/v1")["top_hash"]
    pkg = quilt3_s3.Package.browse("team/dest", registry=reg)
    assert pkg.top_hash == top
    for key in SMALL:
        pk = pkg[key].physical_key
        assert (pk.bucket, pk.path) == (s3_bucket, f"elsewhere/v1/{key}") and pk.version_id
    assert not [k for k, _ in all_versions(s3, s3_bucket) if k.startswith("team/dest/")]


def test_push_default_remote_registry_from_config(quilt3_s3, s3_bucket, tmp_path):
    # A private config.yml for this test: quilt config writes it, quilt push reads it.
    env = {"XDG_DATA_HOME": str(tmp_path / "xdg")}
    tree = make_tree(tmp_path / "data", SMALL)
    run_ok("quilt", "config", "default_remote_registry", f"s3://{s3_bucket}", env=env)
    top = json.loads(run_ok("quilt", "push", "team/cfg", str(tree), "--json", env=env))["top_hash"]
    assert quilt3_s3.Package.browse("team/cfg", registry=f"s3://{s3_bucket}").top_hash == top


def test_push_latest_local_revision(quilt3_s3, s3, s3_bucket, tmp_path):
    """With no DIR/--set/--from, push publishes NAME's latest local revision (after `quilt build`)."""
    env = {"XDG_DATA_HOME": str(tmp_path / "xdg")}
    tree = make_tree(tmp_path / "data", SMALL)
    local_top = run_ok("quilt", "build", "team/loc", str(tree), "--message", "local", env=env).decode().strip()
    pushed = json.loads(run_ok("quilt", "push", "team/loc", "--registry", f"s3://{s3_bucket}", "--json", env=env))
    assert pushed["top_hash"] == local_top
    pkg = quilt3_s3.Package.browse("team/loc", registry=f"s3://{s3_bucket}")
    assert pkg.top_hash == local_top and pkg["a.txt"].get_bytes() == SMALL["a.txt"]
    assert pkg["a.txt"].physical_key.bucket == s3_bucket


# --- what quilt3 pushes, we read and update ----------------------------------------------------------------------


def test_quilt3_push_is_read_installed_verified_and_updated_by_us(quilt3_s3, s3_bucket, tmp_path):
    q3 = quilt3_s3
    reg = f"s3://{s3_bucket}"
    tree = make_tree(tmp_path / "data", {**SMALL, **ODD}, big=True)
    keys = tree_keys(tree)
    pkg = q3.Package()
    pkg.set_dir(".", str(tree), meta={"by": "quilt3"})
    pkg.set("extra.txt", str(tree / "a.txt"), meta={"note": "é"})
    theirs = pkg.push("team/theirs", registry=reg, message="from quilt3", force=True)
    top1 = theirs.top_hash

    shown = quilt_json("show", "team/theirs", "--registry", reg)
    assert shown["top_hash"] == top1 and shown["message"] == "from quilt3" and shown["user_meta"] == {"by": "quilt3"}
    assert [e["logical_key"] for e in shown["entries"]] == [k for k, _ in theirs.walk()]
    for e in shown["entries"]:
        assert e["hash"] == theirs[e["logical_key"]].hash and e["size"] == theirs[e["logical_key"]].size
        assert e["physical_key"] == str(theirs[e["logical_key"]].physical_key)

    dest = tmp_path / "installed"
    quilt("install", "team/theirs", "--registry", reg, "--dest", str(dest))
    assert_same_files(tree, dest, keys)
    assert (dest / "extra.txt").read_bytes() == SMALL["a.txt"]
    assert quilt_json("verify", "team/theirs", "--registry", reg, "--dir", str(dest)) == {
        "ok": True, "missing": [], "modified": [], "extra": []}

    # Update: a changed file, a new one; the rest keep quilt3's copies (already in the registry bucket).
    time.sleep(1.1)  # one timestamp pointer per second
    update = make_tree(tmp_path / "update", {"a.txt": b"changed\n", "new/file.txt": b"new\n"})
    ours = quilt_json("push", "team/theirs", str(update), "--from", "team/theirs", "--registry", reg,
                      "--message", "v2")
    top2 = ours["top_hash"]
    assert top2 != top1

    after = q3.Package.browse("team/theirs", registry=reg)
    assert after.top_hash == top2
    assert after["a.txt"].get_bytes() == b"changed\n" and after["new/file.txt"].get_bytes() == b"new\n"
    for key in keys:
        if key != "a.txt":
            assert str(after[key].physical_key) == str(theirs[key].physical_key), key
    assert after["a.txt"].physical_key.path == "team/theirs/a.txt"
    assert after["a.txt"].physical_key.version_id != theirs["a.txt"].physical_key.version_id
    versions = dict(q3.list_package_versions("team/theirs", registry=reg))
    assert versions["latest"] == top2 and sorted(v for k, v in versions.items() if k != "latest") == sorted(
        [top1, top2])
    # quilt3 computes the same top hash for the update (push --dir semantics: set_dir('.', DIR)).
    parent = q3.Package.browse("team/theirs", registry=reg, top_hash=top1)
    parent.set_dir(".", str(update))
    assert parent.build("team/ref", registry="file://" + str(tmp_path / "ref-registry"), message="v2") == top2


# --- copy rule, dedupe, conflicts --------------------------------------------------------------------------------


@pytest.fixture
def other_bucket(s3):
    name = "other-" + uuid.uuid4().hex[:12]
    s3.create_bucket(Bucket=name)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return name


def test_copy_rule_default_local_and_all(quilt3_s3, s3, s3_bucket, other_bucket, tmp_path):
    q3 = quilt3_s3
    reg = f"s3://{s3_bucket}"
    in_reg = s3.put_object(Bucket=s3_bucket, Key="raw/x.txt", Body=b"in registry\n",
                           ContentType="application/octet-stream")["VersionId"]
    elsewhere = s3.put_object(Bucket=other_bucket, Key="raw/y.txt", Body=b"other bucket\n",
                              ContentType="application/octet-stream")["VersionId"]
    local = tmp_path / "z.txt"
    local.write_bytes(b"local\n")
    sets = ["--set", f"x=s3://{s3_bucket}/raw/x.txt", "--set", f"y=s3://{other_bucket}/raw/y.txt",
            "--set", f"z={local}"]

    def keys_of(name):
        pkg = q3.Package.browse(name, registry=reg)
        assert pkg["x"].get_bytes() == b"in registry\n" and pkg["y"].get_bytes() == b"other bucket\n"
        assert pkg["z"].get_bytes() == b"local\n"
        return {k: pkg[k].physical_key for k in "xyz"}

    # Default (quilt3 ≥ 7): copy unless already in the registry bucket; local files are always copied.
    quilt("push", "team/default", *sets, "--registry", reg)
    pk = keys_of("team/default")
    assert (pk["x"].bucket, pk["x"].path, pk["x"].version_id) == (s3_bucket, "raw/x.txt", in_reg)
    assert (pk["y"].bucket, pk["y"].path) == (s3_bucket, "team/default/y") and pk["y"].version_id
    assert (pk["z"].bucket, pk["z"].path) == (s3_bucket, "team/default/z") and pk["z"].version_id
    assert not [k for k, _ in all_versions(s3, s3_bucket) if k == "team/default/x"]
    assert len([k for k, _ in all_versions(s3, s3_bucket) if k == "raw/x.txt"]) == 1

    # --copy local: only local files.
    quilt("push", "team/local", *sets, "--registry", reg, "--copy", "local")
    pk = keys_of("team/local")
    assert (pk["x"].bucket, pk["x"].path, pk["x"].version_id) == (s3_bucket, "raw/x.txt", in_reg)
    assert (pk["y"].bucket, pk["y"].path, pk["y"].version_id) == (other_bucket, "raw/y.txt", elsewhere)
    assert (pk["z"].bucket, pk["z"].path) == (s3_bucket, "team/local/z")

    # --copy all: everything, the registry bucket's own objects too.
    quilt("push", "team/all", *sets, "--registry", reg, "--copy", "all")
    pk = keys_of("team/all")
    for k in "xyz":
        assert (pk[k].bucket, pk[k].path) == (s3_bucket, f"team/all/{k}") and pk[k].version_id, k


def test_dedupe_writes_nothing_when_latest_is_equal(quilt3_s3, s3, s3_bucket, tmp_path):
    reg = f"s3://{s3_bucket}"
    tree = make_tree(tmp_path / "data", SMALL)
    top = quilt_json("push", "team/dd", str(tree), "--registry", reg, "--dedupe")["top_hash"]
    before = all_versions(s3, s3_bucket)
    time.sleep(1.1)  # a new timestamp pointer would have a new name
    again = quilt_json("push", "team/dd", str(tree), "--from", "team/dd", "--registry", reg, "--dedupe")
    assert again["top_hash"] == top
    assert all_versions(s3, s3_bucket) == before
    assert len(dict(quilt3_s3.list_package_versions("team/dd", registry=reg))) == 2

    # Without --dedupe the same push records a new timestamp pointer.
    quilt("push", "team/dd", str(tree), "--from", "team/dd", "--registry", reg)
    assert len(dict(quilt3_s3.list_package_versions("team/dd", registry=reg))) == 3


def test_conflict_when_quilt3_pushed_in_between(quilt3_s3, s3_bucket, tmp_path):
    q3 = quilt3_s3
    reg = f"s3://{s3_bucket}"
    tree = make_tree(tmp_path / "data", SMALL)
    top1 = quilt_json("push", "team/c", str(tree), "--registry", reg, "--message", "v1")["top_hash"]

    # quilt3 browses v1 and pushes v2 (no conflict for it: it started from the latest).
    pkg = q3.Package.browse("team/c", registry=reg)
    pkg.set("by-quilt3.txt", str(tree / "a.txt"))
    time.sleep(1.1)
    top2 = pkg.push("team/c", registry=reg, message="v2").top_hash

    # Our push starting from v1 lost the race: exit 2, a hint, nothing moved.
    update = make_tree(tmp_path / "update", {"mine.txt": b"mine\n"})
    time.sleep(1.1)
    rc, out, err = run("quilt", "push", "team/c", str(update), "--from", f"team/c@{top1}", "--registry", reg)
    assert rc == 2, err
    assert out == b""
    assert "error: " in err and any(
        line.startswith("hint:") and ("--force" in line or "--from" in line) for line in err.splitlines()), err
    assert q3.Package.browse("team/c", registry=reg).top_hash == top2

    # Starting from nothing (a fresh package) over an existing name conflicts as well (quilt3 8.0.0).
    rc, _, err = run("quilt", "push", "team/c", str(update), "--registry", reg)
    assert rc == 2, err
    assert q3.Package.browse("team/c", registry=reg).top_hash == top2

    # --force wins.
    forced = quilt_json("push", "team/c", str(update), "--from", f"team/c@{top1}", "--registry", reg, "--force")
    after = q3.Package.browse("team/c", registry=reg)
    assert after.top_hash == forced["top_hash"] != top2
    assert after["mine.txt"].get_bytes() == b"mine\n" and "by-quilt3.txt" not in after

    # Starting from the current latest is fine.
    time.sleep(1.1)
    quilt("push", "team/c", str(make_tree(tmp_path / "u2", {"more.txt": b"more\n"})), "--from", "team/c",
          "--registry", reg)
    assert "more.txt" in q3.Package.browse("team/c", registry=reg)


# --- manifest-only publishing ------------------------------------------------------------------------------------


def test_build_with_s3_entries_writes_metadata_only(quilt3_s3, s3, s3_bucket, tmp_path):
    q3 = quilt3_s3
    reg = f"s3://{s3_bucket}"
    data = b"already in S3\n"
    version = s3.put_object(Bucket=s3_bucket, Key="some/key", Body=data,
                            ContentType="application/octet-stream")["VersionId"]
    top = quilt("build", "team/m", "--set", f"k=s3://{s3_bucket}/some/key", "--registry", reg).decode().strip()

    pkg = q3.Package.browse("team/m", registry=reg)
    assert pkg.top_hash == top
    pk = pkg["k"].physical_key
    assert (pk.bucket, pk.path, pk.version_id) == (s3_bucket, "some/key", version)
    assert pkg["k"].get_bytes() == data and pkg["k"].size == len(data)
    local = tmp_path / "k"
    local.write_bytes(data)
    assert pkg["k"].hash == local_hash(local)
    # No data copied: besides .quilt/ the bucket holds the one object version it had.
    assert [kv for kv in all_versions(s3, s3_bucket) if not kv[0].startswith(".quilt/")] == [("some/key", version)]
    # quilt3 builds the same package to the same top hash.
    ref = q3.Package()
    ref.set("k", f"s3://{s3_bucket}/some/key")
    assert ref.build("team/ref", registry="file://" + str(tmp_path / "ref-registry")) == top


def test_build_from_s3_prefix_adds_every_object(quilt3_s3, s3, s3_bucket, tmp_path):
    q3 = quilt3_s3
    reg = f"s3://{s3_bucket}"
    objects = {"a.txt": b"a\n", "sub/b.txt": b"b\n", "sub/deeper/c.bin": bytes(3000)}
    versions = {}
    for key, body in objects.items():
        versions[key] = s3.put_object(Bucket=s3_bucket, Key=f"prefix/{key}", Body=body,
                                      ContentType="application/octet-stream")["VersionId"]
    s3.put_object(Bucket=s3_bucket, Key="outside.txt", Body=b"not in the package\n")
    top = quilt("build", "team/p", f"s3://{s3_bucket}/prefix/", "--registry", reg).decode().strip()

    pkg = q3.Package.browse("team/p", registry=reg)
    assert pkg.top_hash == top
    assert sorted(k for k, _ in pkg.walk()) == sorted(objects)
    for key, body in objects.items():
        pk = pkg[key].physical_key
        assert (pk.bucket, pk.path, pk.version_id) == (s3_bucket, f"prefix/{key}", versions[key])
        assert pkg[key].get_bytes() == body
    ref = q3.Package()
    ref.set_dir(".", f"s3://{s3_bucket}/prefix/")
    assert ref.build("team/ref", registry="file://" + str(tmp_path / "ref-registry")) == top


# --- errors ------------------------------------------------------------------------------------------------------


def test_missing_bucket_is_named(s3_endpoint):
    bucket = "no-such-bucket-" + uuid.uuid4().hex[:8]
    rc, out, err = run("quilt", "list", "--registry", f"s3://{bucket}")
    assert rc == 1 and out == b""
    assert err.startswith("error: ") and bucket in err.splitlines()[0], err


def test_push_to_missing_bucket_is_named(s3_endpoint, tmp_path):
    bucket = "no-such-bucket-" + uuid.uuid4().hex[:8]
    tree = make_tree(tmp_path / "data", SMALL)
    rc, out, err = run("quilt", "push", "team/x", str(tree), "--registry", f"s3://{bucket}")
    assert rc == 1 and out == b"", err
    assert err.startswith("error: ") and bucket in err.splitlines()[0], err


def test_wrong_credentials_give_403_with_hint(s3_auth):
    env = {"AWS_ENDPOINT_URL": s3_auth["endpoint"], "AWS_ACCESS_KEY_ID": s3_auth["key_id"],
           "AWS_SECRET_ACCESS_KEY": s3_auth["secret"] + "wrong"}
    reg = f"s3://{s3_auth['bucket']}"
    rc, out, err = run("quilt", "list", "--registry", reg, env=env)
    assert rc == 1 and out == b"", err
    first = err.splitlines()[0]
    assert first.startswith("error: ") and s3_auth["bucket"] in first, err
    assert "denied" in err.lower() or "403" in err or "SignatureDoesNotMatch" in err, err
    assert any(line.startswith("hint:") and "credentials" in line for line in err.splitlines()), err
    assert s3_auth["secret"] not in err


def test_push_with_wrong_credentials_gives_403_with_hint(s3_auth, tmp_path):
    env = {"AWS_ENDPOINT_URL": s3_auth["endpoint"], "AWS_ACCESS_KEY_ID": s3_auth["key_id"],
           "AWS_SECRET_ACCESS_KEY": s3_auth["secret"] + "wrong"}
    reg = f"s3://{s3_auth['bucket']}"
    tree = make_tree(tmp_path / "data", SMALL)
    rc, out, err = run("quilt", "push", "team/x", str(tree), "--registry", reg, env=env)
    assert rc == 1 and out == b"", err
    assert s3_auth["bucket"] in err and any(line.startswith("hint:") for line in err.splitlines()), err
    assert s3_auth["secret"] not in err


# --- entry metadata, promotion ------------------------------------------------------------------------------------


def test_push_entry_meta_equals_quilt3_set_meta(quilt3_s3, s3_bucket, tmp_path):
    """`--entry-meta` on push is quilt3's `pkg.set(lk, path, meta=…)` (entries added) and `pkg[lk].set_meta(…)` (an
    entry of the --from revision): the same top hash, and quilt3 reads the metadata back."""
    q3 = quilt3_s3
    reg = f"s3://{s3_bucket}"
    tree = make_tree(tmp_path / "data", SMALL)
    meta = {"owner": "ana", "n": [1, 2.5, 1e-05], "nested": {"z": None, "a": True}}
    top = quilt_json("push", "team/em", str(tree), "--registry", reg, "--message", "m",
                     "--entry-meta", "a.txt=" + json.dumps(meta),
                     "--entry-meta", 'sub/dir/c.json={"k": 1.0}')["top_hash"]
    pkg = q3.Package.browse("team/em", registry=reg)
    assert pkg["a.txt"].meta == meta and pkg["sub/dir/c.json"].meta == {"k": 1.0}
    mine = q3.Package()
    mine.set_dir(".", str(tree), meta=None)
    mine.set("a.txt", str(tree / "a.txt"), meta=meta)
    mine.set("sub/dir/c.json", str(tree / "sub/dir/c.json"), meta={"k": 1.0})
    mine.set_meta(None)
    time.sleep(1.1)
    assert mine.push("team/em-q3", registry=reg, message="m", force=True).top_hash == top

    # An entry of the base: only its user_meta changes, as set_meta changes it.
    time.sleep(1.1)
    top2 = quilt_json("push", "team/em", "--from", "team/em", "--registry", reg, "--message", "m2",
                      "--entry-meta", 'kb.bin={"checked": true}')["top_hash"]
    theirs = q3.Package.browse("team/em", registry=reg, top_hash=top)
    theirs["kb.bin"].set_meta({"checked": True})
    time.sleep(1.1)
    assert theirs.push("team/em-q3", registry=reg, message="m2", force=True).top_hash == top2
