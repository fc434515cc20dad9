"""Workflows (format.md §11): the same accept/refuse decision, top hash and stamp as quilt3 for the same inputs,
both tools on the same registry (local and S3), including configs written with YAML's comments, anchors and
aliases, folded scalars and flow mappings.

Each case writes `.quilt/workflows/config.yml` (and schemas) into a registry, builds the same tree with quilt3
(`Package.set_dir` + `build`) and with `quilt build` into that registry, and compares: both refuse, or both
accept with byte-identical manifests (so the stamp and its place in the header are the same).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from conftest import run

FILES = {"a.txt": b"hello", "sub/b.csv": b"1,2,3\n4\n"}  # 5 and 8 bytes

META_SCHEMA = {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object", "required": ["author"],
               "properties": {"author": {"type": "string"}, "version": {"type": "string", "pattern": r"^[0-9]+\.[0-9]+\.[0-9]+$"}}}
ENTRIES_SMALL = {"type": "array", "items": {"type": "object", "properties": {"size": {"maximum": 6}}}}
ENTRIES_LARGE = {"type": "array", "items": {"type": "object", "properties": {"size": {"maximum": 100}}}}
INTEGER_SCHEMA = {"type": "object", "properties": {"x": {"type": "integer"}}}

BASE_CONFIG = """\
version: "1"
is_workflow_required: false
default_workflow: beta
workflows:
  alpha: {{name: Alpha, metadata_schema: meta, is_message_required: true, handle_pattern: ^user/}}
  beta:  {{name: Beta}}
  gamma: {{name: Gamma, metadata_schema: meta, entries_schema: small}}
  delta: {{name: Delta, entries_schema: large, metadata_schema: meta}}
  ints: {{name: Ints, metadata_schema: ints}}
  twice: {{name: Twice, metadata_schema: same1, entries_schema: same2}}
schemas:
  meta: {{url: "{reg}/schemas/meta.json"}}
  small: {{url: "{reg}/schemas/small.json"}}
  large: {{url: "{reg}/schemas/large.json"}}
  ints: {{url: "{reg}/schemas/ints.json"}}
  same1: {{url: "{reg}/schemas/any.json"}}
  same2: {{url: "{reg}/schemas/any.json"}}
"""

# Comments, anchors and aliases, a merge key, folded and literal scalars, flow mappings and sequences.
YAML_FEATURES_CONFIG = """\
# The team's rules.
version:
  base: "1.1"      # compound version form
  catalog: "7"
is_workflow_required: yes
default_workflow: release
common: &common
  name: >
    Release
    workflow
  description: |
    Packages that
    ship.
workflows:
  release:
    <<: *common
    metadata_schema: meta
    handle_pattern: '^(user|team)/'
  other: {{name: Other, is_message_required: no}}
schemas: {{meta: {{url: "{reg}/schemas/meta.json"}}}}
successors:
  "s3://elsewhere": {{title: Elsewhere, copy_data: false}}
"""

# (label, config template or None, kwargs) — kwargs: name, workflow (... = not given), meta (... = none), message.
CASES = [
    ("no config, no workflow", None, {}),
    ("no config, workflow id", None, {"workflow": "alpha"}),
    ("no config, workflow None", None, {"workflow": None}),
    ("default workflow", BASE_CONFIG, {"message": "m"}),
    ("None, not required", BASE_CONFIG, {"workflow": None, "message": "m"}),
    ("alpha passes", BASE_CONFIG, {"workflow": "alpha", "meta": {"author": "me"}, "message": "msg"}),
    ("alpha without message", BASE_CONFIG, {"workflow": "alpha", "meta": {"author": "me"}}),
    ("alpha with empty message", BASE_CONFIG, {"workflow": "alpha", "meta": {"author": "me"}, "message": ""}),
    ("alpha bad name", BASE_CONFIG, {"workflow": "alpha", "name": "other/pkg", "meta": {"author": "me"}, "message": "m"}),
    ("alpha metadata missing a key", BASE_CONFIG, {"workflow": "alpha", "meta": {"x": 1}, "message": "m"}),
    ("alpha metadata null", BASE_CONFIG, {"workflow": "alpha", "meta": None, "message": "m"}),
    ("alpha metadata pattern", BASE_CONFIG, {"workflow": "alpha", "meta": {"author": "a", "version": "1.0"}, "message": "m"}),
    ("gamma entries too large", BASE_CONFIG, {"workflow": "gamma", "meta": {"author": "a"}}),
    ("delta stamps both schemas, metadata first", BASE_CONFIG, {"workflow": "delta", "meta": {"author": "a"}}),
    ("integer accepts 1.0", BASE_CONFIG, {"workflow": "ints", "meta": {"x": 1.0}}),
    ("integer refuses 1.5", BASE_CONFIG, {"workflow": "ints", "meta": {"x": 1.5}}),
    ("integer refuses true", BASE_CONFIG, {"workflow": "ints", "meta": {"x": True}}),
    ("one URL under two ids", BASE_CONFIG, {"workflow": "twice", "meta": {"a": 1}}),
    ("unknown workflow", BASE_CONFIG, {"workflow": "nope"}),
    ("required, none given", BASE_CONFIG.replace("is_workflow_required: false\ndefault_workflow: beta\n", ""), {}),
    ("required, None explicit", BASE_CONFIG.replace("is_workflow_required: false", "is_workflow_required: true"), {"workflow": None}),
    ("default names a missing workflow", BASE_CONFIG.replace("default_workflow: beta", "default_workflow: zz"), {}),
    ("version 1.1.0 accepted", BASE_CONFIG.replace('version: "1"', 'version: "1.1.0"'), {"message": "m"}),
    ("version 1.2 refused", BASE_CONFIG.replace('version: "1"', 'version: "1.2"'), {}),
    ("version as a float refused", BASE_CONFIG.replace('version: "1"', "version: 1.1"), {}),
    ("bad workflow id refused", BASE_CONFIG.replace("  beta:  {name: Beta}", "  1beta: {name: Beta}").replace("default_workflow: beta", "default_workflow: alpha"), {}),
    ("unknown top-level key refused", BASE_CONFIG + "foo: 1\n", {}),
    ("YAML features, passes", YAML_FEATURES_CONFIG, {"meta": {"author": "a"}, "name": "team/pkg"}),
    ("YAML features, wrong name", YAML_FEATURES_CONFIG, {"meta": {"author": "a"}, "name": "nobody/pkg"}),
    ("YAML features, other workflow", YAML_FEATURES_CONFIG, {"workflow": "other", "meta": {"k": [1, 2]}}),
]


def write_registry(reg: Path, config: str | None, schemas: dict | None = None):
    for sub in (".quilt/workflows", "schemas"):
        (reg / sub).mkdir(parents=True, exist_ok=True)
    schemas = schemas or {"meta.json": META_SCHEMA, "small.json": ENTRIES_SMALL, "large.json": ENTRIES_LARGE,
                          "ints.json": INTEGER_SCHEMA, "any.json": {}}
    for name, schema in schemas.items():
        (reg / "schemas" / name).write_text(json.dumps(schema) if not isinstance(schema, str) else schema)
    path = reg / ".quilt/workflows/config.yml"
    if config is None:
        path.unlink(missing_ok=True)
    else:
        path.write_text(config.format(reg="file://" + str(reg)))


def quilt3_build(q3, reg: Path, tree: Path, name="user/pkg", workflow=..., meta=..., message=None):
    """quilt3's decision: ("ok", top hash) or ("refused", message)."""
    pkg = q3.Package()
    pkg.set_dir(".", str(tree), meta=None if meta is ... else meta)
    kwargs = {} if workflow is ... else {"workflow": workflow}
    try:
        return "ok", pkg.build(name, registry="file://" + str(reg), message=message, **kwargs)
    except Exception as e:  # noqa: BLE001 - any refusal counts; its text is ours to choose
        return "refused", f"{type(e).__name__}: {e}"


def our_build(reg: Path, tree: Path, name="user/pkg", workflow=..., meta=..., message=None):
    args = ["build", name, str(tree), "--registry", str(reg)]
    if workflow is not ...:
        args += ["--workflow", "" if workflow is None else workflow]
    if meta is not ...:
        args += ["--meta", json.dumps(meta)]
    if message is not None:
        args += ["--message", message]
    rc, out, err = run("quilt", *args)
    return rc, out.decode().strip(), err


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "data"
    for key, data in FILES.items():
        (root / key).parent.mkdir(parents=True, exist_ok=True)
        (root / key).write_bytes(data)
    return Path(os.path.realpath(root))


@pytest.mark.parametrize("label,config,kwargs", CASES, ids=[c[0] for c in CASES])
def test_same_decision_and_bytes_as_quilt3(quilt3, registry, tree, label, config, kwargs):
    write_registry(registry, config)
    kind, theirs = quilt3_build(quilt3, registry, tree, **kwargs)
    rc, ours, err = our_build(registry, tree, **kwargs)
    if kind == "refused":
        assert rc != 0, f"quilt3 refused ({theirs}) but we accepted: {ours}"
        assert rc in (64, 65), f"a refusal is a usage (64) or bad-input (65) error, got {rc}: {err}"
        assert err.startswith("error: ") and len(err.strip().splitlines()) <= 2, err
        return
    assert rc == 0, f"quilt3 accepted ({theirs}) but we refused: {err}"
    assert ours == theirs, "top hashes differ"
    header = json.loads((registry / ".quilt/packages" / ours).read_bytes().split(b"\n")[0])
    assert ("workflow" in header) == (config is not None)


def test_refusals_name_the_workflow_rule_and_path(registry, tree):
    write_registry(registry, BASE_CONFIG)
    rc, _, err = our_build(registry, tree, workflow="alpha", meta={"author": "a", "version": "1.0"}, message="m")
    assert rc == 65
    # The reason is jsonschema's own message, as quilt3 shows it (values as Python reprs: backslashes doubled).
    assert err.splitlines()[0] == (
        r"error: metadata fails workflow 'alpha' at $.version: '1.0' does not match '^[0-9]+\\.[0-9]+\\.[0-9]+$'")
    rc, _, err = our_build(registry, tree, workflow="gamma", meta={"author": "a"})
    assert rc == 65 and "entries fails workflow 'gamma' at $[1].size: 8 is greater than the maximum of 6" in err
    rc, _, err = our_build(registry, tree, workflow="alpha", meta={"author": "a"})
    assert rc == 65 and "message fails workflow 'alpha'" in err
    rc, _, err = our_build(registry, tree, workflow="nope")
    assert rc == 64 and "no workflow 'nope'" in err and "hint: give --workflow ID, one of: alpha, beta" in err
    assert not (registry / ".quilt/packages").exists() or not any((registry / ".quilt/packages").iterdir())


@pytest.mark.parametrize("schema,fragment", [
    ('{"properties": {"a": {"$ref": "#/definitions/x"}}}', "$ref is not supported"),
    ('{"$schema": "http://json-schema.org/draft-04/schema#"}', "unsupported meta-schema"),
    ('{"$schema": 7}', "$schema must be a string"),
    ('{"type": "foo"}', "is not valid"),
    ('{"pattern": "("}', "is not valid"),
    ("not json", "not JSON"),
])
def test_broken_schemas_are_refused_like_quilt3(quilt3, registry, tree, schema, fragment):
    write_registry(registry, BASE_CONFIG, schemas={"meta.json": schema, "small.json": {}, "large.json": {},
                                                   "ints.json": {}, "any.json": {}})
    kind, theirs = quilt3_build(quilt3, registry, tree, workflow="alpha", meta={"author": "a"}, message="m")
    assert kind == "refused", theirs
    rc, _, err = our_build(registry, tree, workflow="alpha", meta={"author": "a"}, message="m")
    assert rc == 65, err
    assert fragment in err and "schemas/meta.json" in err, err


def test_broken_config_names_the_file_and_writes_nothing(registry, tree):
    write_registry(registry, "version: [unclosed\n")
    rc, _, err = our_build(registry, tree)
    assert rc == 65
    assert "invalid workflows config" in err and ".quilt/workflows/config.yml" in err
    assert not (registry / ".quilt/named_packages").exists()


def test_check_validates_and_writes_nothing(registry, tree):
    write_registry(registry, BASE_CONFIG)
    rc, out, err = our_build(registry, tree, workflow="alpha", meta={"author": "a"})
    assert rc == 65
    rc, out, err = run("quilt", "build", "user/pkg", str(tree), "--registry", str(registry), "--workflow", "alpha",
                       "--meta", '{"author": "a"}', "--message", "m", "--check", "--json")
    assert rc == 0, err
    result = json.loads(out)
    assert result["workflow"] == "alpha" and result["timestamp"] is None and len(result["top_hash"]) == 64
    assert not (registry / ".quilt/packages").exists()
    # The hash --check printed is the one a real build writes.
    rc, out, err = our_build(registry, tree, workflow="alpha", meta={"author": "a"}, message="m")
    assert rc == 0 and out == result["top_hash"]


def test_plumbing_writes_the_same_stamped_manifest(quilt3, registry, tree):
    write_registry(registry, BASE_CONFIG)
    kind, top = quilt3_build(quilt3, registry, tree, workflow="alpha", meta={"author": "a"}, message="m")
    assert kind == "ok", top
    stream = run("quilt-hash-object", "--entries", "--root", str(tree), str(tree / "a.txt"), str(tree / "sub/b.csv"))[1]
    rc, out, err = run("quilt-write-manifest", "--registry", str(registry), "--name", "user/pkg", "--workflow", "alpha",
                       "--meta", '{"author": "a"}', "--message", "m", input=stream)
    assert rc == 0, err
    assert out.decode().strip() == top
    # Without --name, a registry with workflows cannot check the name: a usage error, nothing written.
    rc, _, err = run("quilt-write-manifest", "--registry", str(registry), "--workflow", "alpha", input=stream)
    assert rc == 64 and "--name" in err


def test_rebuild_without_config_drops_the_stamp_like_quilt3(quilt3, registry, tree):
    write_registry(registry, BASE_CONFIG)
    assert quilt3_build(quilt3, registry, tree, message="m")[0] == "ok"
    write_registry(registry, None)
    time.sleep(1.1)
    rc, ours, err = run("quilt", "build", "user/pkg", "--from", "user/pkg", "--registry", str(registry), "--message", "m2")
    assert rc == 0, err
    pkg = quilt3.Package.browse("user/pkg", registry="file://" + str(registry), top_hash=None)
    pkg2 = quilt3.Package.browse("user/pkg", registry="file://" + str(registry))
    theirs = pkg2.build("user/pkg", registry="file://" + str(registry), message="m2")
    assert ours.decode().strip() == theirs
    assert "workflow" not in json.loads((registry / ".quilt/packages" / theirs).read_bytes().split(b"\n")[0])


# --- S3 ----------------------------------------------------------------------------------------------------------


S3_CONFIG = """\
version: "1"
is_workflow_required: true
workflows:
  w: {{name: W, metadata_schema: latest}}
  local: {{name: Local, metadata_schema: onDisk}}
schemas:
  latest: {{url: "s3://{bucket}/schemas/meta.json"}}
  onDisk: {{url: "file:///tmp/never-read.json"}}
"""


@pytest.mark.s3
def test_s3_push_same_stamp_and_top_hash_as_quilt3(quilt3_s3, s3, s3_bucket, tmp_path):
    q3 = quilt3_s3
    reg = f"s3://{s3_bucket}"
    s3.put_object(Bucket=s3_bucket, Key=".quilt/workflows/config.yml", Body=S3_CONFIG.format(bucket=s3_bucket).encode())
    s3.put_object(Bucket=s3_bucket, Key="schemas/meta.json", Body=json.dumps(META_SCHEMA).encode())
    for key, data in FILES.items():
        s3.put_object(Bucket=s3_bucket, Key="data/" + key, Body=data)

    # Data already in the bucket stays where it is (quilt3: selector_fn false; us: --copy none), so both
    # revisions have the same entries and the top hashes compare.
    pkg = q3.Package()
    pkg.set_dir(".", f"s3://{s3_bucket}/data/", meta={"author": "a"})
    theirs = pkg.push("team/wf", registry=reg, message="m", workflow="w", selector_fn=lambda *_: False, force=True)
    rc, out, err = run("quilt", "push", "team/wf", f"s3://{s3_bucket}/data/", "--registry", reg, "--meta",
                       '{"author": "a"}', "--message", "m", "--workflow", "w", "--copy", "none", "--force")
    assert rc == 0, err
    assert out.decode().strip() == theirs.top_hash
    header = json.loads(s3.get_object(Bucket=s3_bucket, Key=f".quilt/packages/{theirs.top_hash}")["Body"].read()
                        .split(b"\n")[0])
    assert "?versionId=" in header["workflow"]["config"]
    assert header["workflow"]["schemas"]["latest"].startswith(f"s3://{s3_bucket}/schemas/meta.json?versionId=")

    # A metadata failure: both refuse, nothing uploaded by us.
    with pytest.raises(Exception):
        q3.Package().set_dir(".", f"s3://{s3_bucket}/data/", meta={"x": 1}).push(
            "team/wf", registry=reg, workflow="w", selector_fn=lambda *_: False, force=True)
    rc, out, err = run("quilt", "push", "team/wf", f"s3://{s3_bucket}/data/", "--registry", reg, "--meta", '{"x": 1}',
                       "--workflow", "w", "--copy", "none")
    assert rc == 65 and "metadata fails workflow 'w' at $" in err

    # A local schema cannot serve a remote registry.
    rc, out, err = run("quilt", "push", "team/wf", str(tmp_path), "--registry", reg, "--workflow", "local")
    assert rc == 65 and "local schema" in err

    # --check validates against the remote workflow and uploads nothing.
    before = s3.list_object_versions(Bucket=s3_bucket).get("Versions", [])
    (tmp_path / "f.txt").write_bytes(b"x")
    rc, out, err = run("quilt", "push", "team/chk", str(tmp_path), "--registry", reg, "--meta", '{"author": "a"}',
                       "--workflow", "w", "--check", "--json")
    assert rc == 0, err
    assert json.loads(out)["workflow"] == "w"
    assert s3.list_object_versions(Bucket=s3_bucket).get("Versions", []) == before
