"""Fixtures for the compatibility tests: our built programs against quilt3 8.0.0, the reference client.

Environment read: QUILT_BUILD_DIR (default <repo>/.build/debug), QUILT_TEST_S3_ENDPOINT and
QUILT_TEST_S3_AUTH_ENDPOINT (set by scripts/test; tests marked `s3` are skipped without the first).
"""

from __future__ import annotations

import os
import tempfile

# quilt3 posts telemetry and picks its data/cache directories at import time, so all of this must be set before
# anything imports it. The session gets one private HOME; tests use explicit registries under tmp_path.
_SESSION_HOME = tempfile.mkdtemp(prefix="quilt-compat-home.")
os.environ.update(
    {
        "QUILT_DISABLE_USAGE_METRICS": "true",
        "QUILT_MINIMIZE_STDOUT": "true",
        "QUILT_DISABLE_CACHE": "true",
        "HOME": _SESSION_HOME,
        "XDG_DATA_HOME": os.path.join(_SESSION_HOME, ".local", "share"),
        "XDG_CACHE_HOME": os.path.join(_SESSION_HOME, ".cache"),
        "XDG_CONFIG_HOME": os.path.join(_SESSION_HOME, ".config"),
        "AWS_CONFIG_FILE": os.path.join(_SESSION_HOME, ".aws", "config"),
        "AWS_SHARED_CREDENTIALS_FILE": os.path.join(_SESSION_HOME, ".aws", "credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }
)
os.environ.pop("AWS_PROFILE", None)
# No desktop: neither `quilt login` nor quilt3's login may open a browser during tests.
for _name in ("DISPLAY", "WAYLAND_DISPLAY"):
    os.environ.pop(_name, None)

import shutil  # noqa: E402
import subprocess  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

import corpus as corpus_module  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
BUILD_DIR = Path(os.environ.get("QUILT_BUILD_DIR") or REPO / ".build" / "debug").resolve()
S3_ENDPOINT = os.environ.get("QUILT_TEST_S3_ENDPOINT")
S3_AUTH_ENDPOINT = os.environ.get("QUILT_TEST_S3_AUTH_ENDPOINT")


def pytest_configure(config):
    config.addinivalue_line("markers", "s3: needs the local S3 endpoint (QUILT_TEST_S3_ENDPOINT)")


def pytest_collection_modifyitems(config, items):
    if S3_ENDPOINT:
        return
    skip = pytest.mark.skip(reason="QUILT_TEST_S3_ENDPOINT is not set (run through scripts/test)")
    for item in items:
        if "s3" in item.keywords:
            item.add_marker(skip)


def pytest_sessionfinish(session, exitstatus):
    shutil.rmtree(_SESSION_HOME, ignore_errors=True)


# --- programs ----------------------------------------------------------------------------------------------------


def prog_path(prog: str) -> str:
    """The built program `prog` (e.g. "quilt-hash-object" or "quilt")."""
    return str(BUILD_DIR / prog)


def run(prog: str, *args, input: bytes | str | None = None, cwd=None, env: dict | None = None, timeout=300):
    """Runs one of our programs; returns (returncode, stdout bytes, stderr str).

    A missing program gives returncode 127 and a message on stderr rather than an exception, so a test fails
    with a readable assertion. `input` may be str (encoded as UTF-8) or bytes; stdin is empty otherwise.
    """
    if isinstance(input, str):
        input = input.encode()
    path = prog_path(prog)
    if not os.path.exists(path):
        return 127, b"", f"test harness: program not built: {path}"
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    p = subprocess.run(
        [path, *map(os.fspath, args)],
        input=input if input is not None else b"",
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=cwd,
        env=full_env,
        timeout=timeout,
    )
    return p.returncode, p.stdout, p.stderr.decode(errors="replace")


def run_ok(prog: str, *args, **kw) -> bytes:
    """Like run(), but asserts exit status 0 and returns stdout."""
    rc, out, err = run(prog, *args, **kw)
    assert rc == 0, f"{prog} {' '.join(map(str, args))} exited {rc}: {err}"
    return out


@pytest.fixture(scope="session")
def build_dir() -> Path:
    """Directory of our built programs (QUILT_BUILD_DIR or <repo>/.build/debug)."""
    return BUILD_DIR


@pytest.fixture(scope="session")
def programs() -> dict:
    """Name → path of every program of the suite (the paths may not exist yet)."""
    names = ["quilt", "quilt-hash-object", "quilt-write-manifest", "quilt-cat-manifest", "quilt-rev-parse",
             "quilt-update-ref", "quilt-show-ref", "quilt-upload-blob", "quilt-fetch-blob"]
    return {n: prog_path(n) for n in names}


@pytest.fixture(name="run", scope="session")
def run_fixture():
    """run(prog, *args, input=…, cwd=…, env=…) → (returncode, stdout bytes, stderr str)."""
    return run


@pytest.fixture(scope="session")
def quilt_env() -> dict:
    """The environment quilt3 and our programs share in this session (HOME/XDG in a temp dir, telemetry off)."""
    keys = ["HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME", "QUILT_DISABLE_USAGE_METRICS",
            "QUILT_MINIMIZE_STDOUT", "QUILT_DISABLE_CACHE"]
    return {k: os.environ[k] for k in keys}


@pytest.fixture(scope="session")
def quilt3():
    """The quilt3 module (imported after the environment above is in place)."""
    import quilt3 as q

    from importlib.metadata import version

    assert version("quilt3") == "8.0.0", "the reference client must be quilt3 8.0.0 (scripts/bootstrap)"
    return q


# --- corpus ------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def corpus(tmp_path_factory):
    """The generated corpus (see corpus.py): `.root` (a realpath'd directory holding every file of
    corpus.FILES), `.files`, `.path(file)`, `.meta_json` (name → JSON text) and `.meta_values` (name → value)."""

    class Corpus:
        root = Path(corpus_module.realpath(tmp_path_factory.mktemp("corpus")))
        files = corpus_module.FILES
        meta_json = corpus_module.META_JSON
        meta_values = corpus_module.META_VALUES
        meta_all_json = corpus_module.META_ALL_JSON
        messages = corpus_module.MESSAGES

        def path(self, f) -> Path:
            return self.root / (f.key if hasattr(f, "key") else f)

    c = Corpus()
    corpus_module.materialize(c.root)
    return c


@pytest.fixture
def registry(tmp_path) -> Path:
    """An empty local registry directory for one test."""
    d = tmp_path / "registry"
    d.mkdir()
    return Path(corpus_module.realpath(d))


# --- S3 ----------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def s3_endpoint() -> str:
    if not S3_ENDPOINT:
        pytest.skip("QUILT_TEST_S3_ENDPOINT is not set")
    return S3_ENDPOINT


@pytest.fixture
def s3_bucket(s3_endpoint, request):
    """A fresh versioned bucket on the test endpoint; yields its name."""
    import re
    import uuid

    import boto3

    name = re.sub(r"[^a-z0-9-]", "-", request.node.name.lower())[:40].strip("-") + "-" + uuid.uuid4().hex[:8]
    s3 = boto3.client("s3", endpoint_url=s3_endpoint)
    s3.create_bucket(Bucket=name)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return name


@pytest.fixture(scope="session")
def s3(s3_endpoint):
    """A boto3 S3 client for the test endpoint (credentials from the environment scripts/test exports)."""
    import boto3

    return boto3.client("s3", endpoint_url=s3_endpoint)


def _remember_part_checksums(params, context, **kwargs):
    context["quilt_test_part_checksums"] = [
        p.get("ChecksumSHA256") for p in params.get("MultipartUpload", {}).get("Parts", [])]


def _fill_composite_checksum(parsed, context, **kwargs):
    # moto's CompleteMultipartUpload answer leaves out the composite ChecksumSHA256 that quilt3 reads
    # (`resp['ChecksumSHA256'].split('-', 1)`). S3 computes it as base64(SHA256(part digest ‖ …)) + "-N".
    import base64
    import hashlib

    parts = context.get("quilt_test_part_checksums")
    if parsed.get("ChecksumSHA256") or not parts or None in parts:
        return
    digest = hashlib.sha256(b"".join(base64.b64decode(p) for p in parts)).digest()
    parsed["ChecksumSHA256"] = base64.b64encode(digest).decode() + f"-{len(parts)}"


def _moto_checksum_hook(build_client_base, session, client_kwargs, **kwargs):
    client = build_client_base(session, client_kwargs, **kwargs)
    client.meta.events.register("before-parameter-build.s3.CompleteMultipartUpload", _remember_part_checksums)
    client.meta.events.register("after-call.s3.CompleteMultipartUpload", _fill_composite_checksum)
    return client


@pytest.fixture(scope="session")
def quilt3_s3(quilt3, s3_endpoint):
    """quilt3 with an S3 client hook that lets it push files of 8 MiB or more to moto (s3-testing.md): the
    composite checksum moto leaves out of CompleteMultipartUpload is filled in from the parts' checksums.
    (Server-side copies of large objects, whose UploadPartCopy answers lack part checksums, still fail.)"""
    quilt3.hooks.set_build_s3_client_hook(_moto_checksum_hook)
    return quilt3


@pytest.fixture(scope="session")
def s3_auth():
    """The auth-checking moto prepared by scripts/lib/moto.sh: {endpoint, key_id, secret, bucket}."""
    keys = {"endpoint": "QUILT_TEST_S3_AUTH_ENDPOINT", "key_id": "QUILT_TEST_S3_AUTH_KEY_ID",
            "secret": "QUILT_TEST_S3_AUTH_SECRET", "bucket": "QUILT_TEST_S3_AUTH_BUCKET"}
    values = {k: os.environ.get(v) for k, v in keys.items()}
    missing = [keys[k] for k, v in values.items() if not v]
    if missing:
        pytest.skip("not set: " + ", ".join(missing))
    return values
