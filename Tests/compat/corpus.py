"""The compatibility corpus: files, logical keys and metadata values, generated at test time.

The file list is static (so tests can be parametrized over it at collection time); `materialize(root)` writes the
files. Contents are deterministic: zeros, or `random.Random(seed).randbytes(size)`.
"""

from __future__ import annotations

import dataclasses
import json
import os
import random
from pathlib import Path

MIB = 1024 * 1024


@dataclasses.dataclass(frozen=True)
class CorpusFile:
    key: str  # logical key = path relative to the corpus root, with "/"
    size: int
    kind: str  # "zero", "random" or "text"
    text: bytes = b""

    @property
    def id(self) -> str:
        return self.key

    def content(self) -> bytes:
        if self.kind == "zero":
            return bytes(self.size)
        if self.kind == "random":
            return random.Random(self.key).randbytes(self.size)
        return self.text


def _text(key: str, data: bytes) -> CorpusFile:
    return CorpusFile(key, len(data), "text", data)


# Sizes around the 8 MiB chunk boundary of sha2-256-chunked.
BIG_SIZES = [8 * MIB - 1, 8 * MIB, 8 * MIB + 1, 16 * MIB + 3]

# Logical keys with characters that need quoting in URLs, or that are odd for paths.
ODD_NAMES = [
    "with space.txt",
    "plus+sign.txt",
    "percent%25.txt",
    "hash#mark.txt",
    "question?.txt",
    "emoji 😀.txt",
    "combining e\u0301.txt",  # e + COMBINING ACUTE ACCENT (not normalised)
    "precomposed \u00e9.txt",
    "back\\slash.txt",
    "...",
    ".hidden",
    "ünïcödé/日本語.csv",
    "semi;colon,comma=equals&amp.txt",
    "quote'apostrophe\".txt",
    "tilde~under_score-dash.txt",
]

FILES: list[CorpusFile] = (
    [_text("empty.txt", b""), _text("sub/empty.bin", b"")]
    + [_text("hello.txt", b"hello\n"), _text("hello-world.txt", b"Hello, World!")]
    + [CorpusFile(f"sizes/zero-{n}.bin", n, "zero") for n in BIG_SIZES]
    + [CorpusFile(f"sizes/random-{n}.bin", n, "random") for n in BIG_SIZES]
    + [_text(f"names/{n}", f"name {n}\n".encode()) for n in ODD_NAMES]
    + [_text("/".join(f"d{i}" for i in range(1, 11)) + "/leaf.txt", b"ten levels down\n")]
    # Tree order: each directory's children sorted by name, so a/b < a/x < a-b < a.txt.
    + [_text(f"order/{k}", k.encode()) for k in ["a/x", "a-b", "a.txt", "a/b"]]
    + [_text("data/table.csv", b"id,name\n1,alpha\n2,beta\n"), _text("data/obj.json", b'{"k": [1, 2.5]}\n')]
)

SMALL_FILES = [f for f in FILES if f.size < MIB]


def materialize(root: Path, files: list[CorpusFile] = FILES) -> Path:
    """Writes the files under root (created if needed) and returns root."""
    root.mkdir(parents=True, exist_ok=True)
    for f in files:
        path = root / f.key
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as out:
            if f.kind == "zero":
                out.truncate(f.size)
            else:
                out.write(f.content())
    return root


# Metadata values as JSON *text*: what our programs get on the command line or in an entry stream. quilt3 gets
# json.loads(text). Every JSON value kind, float spellings whose Python repr differs from the text, integers
# beyond 64 bits, unicode and every string escape.
META_JSON: dict[str, str] = {
    "null": "null",
    "true": "true",
    "false": "false",
    "zero": "0",
    "int": "42",
    "negative-int": "-7",
    "int-2^63": "9223372036854775808",
    "big-int": "123456789012345678901234567890",
    "big-negative-int": "-18446744073709551617",
    "float-1e-05": "1e-05",
    "float-0.00001": "0.00001",
    "float-1e+16": "1e+16",
    "float-1E16": "1E16",
    "float-1e15-whole": "1000000000000000.0",
    "float-0.1+0.2": "0.30000000000000004",
    "float-negative-zero": "-0.0",
    "float-2.50": "2.50",
    "float-1.5e-07": "1.5e-07",
    "float-min-subnormal": "5e-324",
    "float-max": "1.7976931348623157e+308",
    "float-1.0": "1.0",
    "float-1E5": "1E5",
    "float-1.2345678901234568e+17": "123456789012345678.0",
    "empty-string": '""',
    "string": '"hello"',
    "string-escapes": r'"quote \" backslash \\ slash \/ b \b f \f n \n r \r t \t u \u00e9 \ud83d\ude00"',
    "string-controls": r'"nul \u0000 soh \u0001 us \u001f del \u007f ls \u2028 ps \u2029"',
    "string-raw-unicode": '"é 😀 日本 e\u0301 \u2028 \u007f"',
    "empty-object": "{}",
    "empty-array": "[]",
    "array": '[1, 2.0, "three", null, true, false, [], {}]',
    "object": '{"z": 1, "a": "é", "f": 1.0, "n": null}',
    "nested": '{"outer": {"é": ["😀", {"deep": [1E2, -0.0, 12345678901234567890123]}], "\\u0000key": "\\u2028"}, '
    '"empty": {"o": {}, "a": []}}',
    "key-order": '{"b": 1, "a": 2, "B": 3, "_": 4, "é": 5, "aa": 6, "": 7}',
}

META_VALUES = {name: json.loads(text) for name, text in META_JSON.items()}

# All of them in one object (text kept as written).
META_ALL_JSON = "{" + ", ".join(f"{json.dumps(k)}: {v}" for k, v in META_JSON.items()) + "}"

# A few unicode package messages.
MESSAGES = [None, "", "hi ü", "emoji 😀 and e\u0301", 'quotes " and \\ and \t tab\nnewline', "\u2028 \u007f"]


def realpath(path: str | os.PathLike) -> str:
    return os.path.realpath(os.fspath(path))
