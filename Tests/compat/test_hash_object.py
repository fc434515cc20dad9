"""quilt-hash-object against quilt3's own checksum code (interface.md: plumbing, quilt-hash-object)."""

from __future__ import annotations

import functools
import hashlib
import json
import os

import pytest

from conftest import run, run_ok
from corpus import FILES, SMALL_FILES

HASH_TYPES = ["sha2-256-chunked", "SHA256", "CRC64NVME"]


def quilt3_hash(path, hash_type: str = "sha2-256-chunked") -> str:
    """The value quilt3 computes (and verifies) for a local file, through the code path Package.verify uses."""
    st = os.stat(path)
    return _quilt3_hash(os.fspath(path), hash_type, st.st_size, st.st_mtime_ns)


@functools.lru_cache(maxsize=None)
def _quilt3_hash(path: str, hash_type: str, size: int, mtime_ns: int) -> str:
    if hash_type == "SHA256":
        return hashlib.sha256(open(path, "rb").read()).hexdigest()
    from quilt3.data_transfer import FileChecksumTask, calculate_multipart_checksum
    from quilt3.util import PhysicalKey

    [value] = calculate_multipart_checksum([FileChecksumTask.create(PhysicalKey.from_path(path), size, hash_type)])
    if isinstance(value, Exception):
        raise value
    return value


def lines(out: bytes) -> list[str]:
    text = out.decode()
    assert text.endswith("\n") or text == "", f"output does not end with a newline: {text!r}"
    return text.splitlines()


@pytest.mark.parametrize("f", FILES, ids=lambda f: f.key)
def test_default_hash_is_sha2_256_chunked(corpus, f):
    path = corpus.path(f)
    assert lines(run_ok("quilt-hash-object", path)) == [quilt3_hash(path)]


@pytest.mark.parametrize("hash_type", HASH_TYPES)
def test_every_file_in_one_call_in_order(corpus, hash_type):
    paths = [corpus.path(f) for f in reversed(FILES)]
    args = [] if hash_type == "sha2-256-chunked" else ["--type", hash_type]
    out = run_ok("quilt-hash-object", *args, *paths)
    assert lines(out) == [quilt3_hash(p, hash_type) for p in paths]


@pytest.mark.parametrize("hash_type", HASH_TYPES)
@pytest.mark.parametrize("nul", [False, True], ids=["lines", "z"])
def test_stdin_paths(corpus, hash_type, nul):
    paths = [corpus.path(f) for f in FILES]
    sep = "\0" if nul else "\n"
    args = ["--stdin-paths"] + (["-z"] if nul else []) + ([] if hash_type == "sha2-256-chunked" else ["--type", hash_type])
    out = run_ok("quilt-hash-object", *args, input="".join(f"{p}{sep}" for p in paths))
    assert lines(out) == [quilt3_hash(p, hash_type) for p in paths]


def test_stdin_paths_relative_to_cwd(corpus):
    rel = [f.key for f in SMALL_FILES]
    out = run_ok("quilt-hash-object", "--stdin-paths", input="".join(k + "\n" for k in rel), cwd=corpus.root)
    assert lines(out) == [quilt3_hash(corpus.path(k)) for k in rel]


@pytest.mark.parametrize("f", [f for f in FILES if f.kind != "text" or f.size == 0] + SMALL_FILES[:4], ids=lambda f: f.key)
@pytest.mark.parametrize("hash_type", ["SHA256", "CRC64NVME"])
def test_other_types(corpus, f, hash_type):
    path = corpus.path(f)
    expected = hashlib.sha256(f.content()).hexdigest() if hash_type == "SHA256" else quilt3_hash(path, hash_type)
    assert lines(run_ok("quilt-hash-object", "--type", hash_type, path)) == [expected]


# Vectors from format.md §3 (quilt3 tests and hand computation).
VECTORS = [
    (b"", "sha2-256-chunked", "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="),
    (b"Hello, World!", "sha2-256-chunked", "BCp9ZKWB7y7pg/IQWIAcw1ZjtwXmxV9i+o4PGOzHCYk="),
    (b"hello\n", "sha2-256-chunked", "7LZbuY+dkFtwRYmGw5/LrXcV5fL8w7Hwd2fXyD4kOMw="),
    (b"Hello, World!", "CRC64NVME", "1Km+Qyat0k0="),
    (b"", "CRC64NVME", "AAAAAAAAAAA="),
    (b"", "SHA256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
]


@pytest.mark.parametrize("data,hash_type,expected", VECTORS)
def test_known_vectors(tmp_path, data, hash_type, expected):
    path = tmp_path / "f"
    path.write_bytes(data)
    assert quilt3_hash(path, hash_type) == expected  # the reference agrees with the spec
    assert lines(run_ok("quilt-hash-object", "--type", hash_type, path)) == [expected]


def test_entries_stream(corpus):
    from quilt3.util import PhysicalKey

    keys = [f.key for f in FILES]
    out = run_ok("quilt-hash-object", "--stdin-paths", "--entries", "--root", corpus.root,
                 input="".join(f"{corpus.path(k)}\n" for k in keys))
    entries = [json.loads(line) for line in lines(out)]
    assert [e["logical_key"] for e in entries] == keys
    for f, e in zip(FILES, entries):
        path = corpus.path(f)
        assert e["size"] == f.size
        assert e["hash"] == {"type": "sha2-256-chunked", "value": quilt3_hash(path)}
        assert e["physical_keys"] == [str(PhysicalKey.from_path(os.path.realpath(path)))]
        assert e.get("meta", {}) == {}


def test_entries_root_defaults_to_cwd(corpus):
    keys = [f.key for f in SMALL_FILES]
    out = run_ok("quilt-hash-object", "--entries", *keys, cwd=corpus.root)
    assert [json.loads(line)["logical_key"] for line in lines(out)] == keys


def test_missing_file_is_an_error(tmp_path):
    rc, out, err = run("quilt-hash-object", tmp_path / "no-such-file")
    assert rc == 1, err
    assert out == b""
    assert err.startswith("error: "), err


def test_unknown_type_is_a_usage_error(corpus):
    rc, out, err = run("quilt-hash-object", "--type", "MD5", corpus.path("hello.txt"))
    assert rc == 64, err
    assert out == b""
