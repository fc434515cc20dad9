#!/usr/bin/env python3
"""Hostile inputs for the integrity tests (t6810), written byte by byte so that every field is what a test says.

    hostile-bundle.py keys OUT KEY...            a bundle whose manifest (top hash right) has these logical keys
    hostile-bundle.py manifest-size OUT SIZE     the manifest member's header claims SIZE bytes (a pax 'size'
                                                 record; SIZE 'ustar' puts the 11-digit maximum, 8 GiB, in the
                                                 ustar header instead)
    hostile-bundle.py object OUT SIZE DATA       one entry of SIZE bytes (manifest and header agree); its member
                                                 claims SIZE (pax above 8 GiB) and holds DATA bytes, then the
                                                 archive ends (a cut-short object)
    hostile-bundle.py sizes OUT SIZE...          entries of these sizes (distinct objects, data as claimed when
                                                 it is small, else none: the reader must stop at the sum)
    hostile-bundle.py registry DIR NAME SIZE...  a local registry DIR with package NAME of entries of these sizes
                                                 (file:// keys to missing files), stored under its right top hash

Top hashes are computed as quilt3 computes them (format.md section 2); objects use the SHA256 hash type.
"""
import gzip
import hashlib
import json
import os
import sys


def canon(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def line(value):
    return json.dumps(value, ensure_ascii=False).encode() + b"\n"


def tree_key(key):
    return key.split("/")


def manifest(entries, message="hostile"):
    """entries: (key, size, hex, url); returns (bytes, top hash) with the entries in walk order."""
    header = {"version": "v0", "message": message}
    entries = sorted(entries, key=lambda e: tree_key(e[0]))
    top = hashlib.sha256(canon(header))
    out = line(header)
    for key, size, hexdigest, url in entries:
        h = {"type": "SHA256", "value": hexdigest}
        top.update(canon({"hash": h, "logical_key": key, "meta": {}, "size": size}))
        out += line({"logical_key": key, "physical_keys": [url], "size": size, "hash": h, "meta": {}})
    return out, top.hexdigest()


def tar_header(name, size_field, typeflag=b"0"):
    h = bytearray(512)
    h[0:len(name)] = name.encode()
    h[100:108] = b"0000644\0"
    h[108:116] = b"0000000\0"
    h[116:124] = b"0000000\0"
    h[124:136] = size_field
    h[136:148] = b"00000000000\0"
    h[156:157] = typeflag
    h[257:265] = b"ustar\x0000"
    h[148:156] = b" " * 8
    h[148:156] = b"%06o\0 " % sum(h)
    return bytes(h)


def octal(size):
    return b"%011o\0" % size


def pad(data):
    return data + b"\0" * (-len(data) % 512)


def pax_record(key, value):
    body = " %s=%s\n" % (key, value)
    n = len(body) + 1
    while len(str(n)) + len(body) != n:
        n = len(str(n)) + len(body)
    return ("%d%s" % (n, body)).encode()


def member(name, data, claimed=None, pax=False, whole=True):
    """A member holding `data`, its header claiming `claimed` bytes (pax when asked or when over ustar's 8 GiB)."""
    claimed = len(data) if claimed is None else claimed
    out = b""
    if pax or claimed > 0o77777777777:
        records = pax_record("size", claimed)
        out += tar_header("PaxHeader/" + name[-80:], octal(len(records)), b"x") + pad(records)
        field = octal(min(claimed, 0o77777777777) if not pax else len(data))
    else:
        field = octal(claimed)
    out += tar_header(name, field) + (pad(data) if whole else data)
    return out


def bundle_header(name, top, entries, objects, nbytes):
    return json.dumps({"format": "quilt-bundle", "version": 1, "name": name, "top_hash": top, "entries": entries,
                       "objects": objects, "bytes": nbytes}).encode() + b"\n"


def write(out, tar):
    with open(out, "wb") as f:
        f.write(gzip.compress(tar, mtime=0))


def main_args(argv):
    kind, out, args = argv[0], argv[1], argv[2:]
    end = b"\0" * 1024
    if kind == "keys":
        data = b"escaped\n"
        hexdigest = hashlib.sha256(data).hexdigest()
        entries = [(k, len(data), hexdigest, "file:///nowhere/x") for k in args]
        body, top = manifest(entries)
        tar = member("quilt-bundle.json", bundle_header("t/evil", top, len(entries), 1, len(data)))
        tar += member("manifest.jsonl", body) + member("objects/SHA256/" + hexdigest, data) + end
        write(out, tar)
    elif kind == "manifest-size":
        data = b"x"
        hexdigest = hashlib.sha256(data).hexdigest()
        body, top = manifest([("a.txt", 1, hexdigest, "file:///nowhere/a")])
        tar = member("quilt-bundle.json", bundle_header("t/big", top, 1, 1, 1))
        if args[0] == "ustar":
            tar += tar_header("manifest.jsonl", b"77777777777\0") + pad(body)
        else:
            tar += member("manifest.jsonl", body, claimed=int(args[0]), pax=True)
        tar += member("objects/SHA256/" + hexdigest, data) + end
        write(out, tar)
    elif kind == "object":
        size, held = int(args[0]), int(args[1])
        data = bytes(range(256)) * (held // 256 + 1)
        data = data[:held]
        hexdigest = hashlib.sha256(b"never this").hexdigest()
        body, top = manifest([("huge.bin", size, hexdigest, "file:///nowhere/huge")])
        tar = member("quilt-bundle.json", bundle_header("t/huge", top, 1, 1, size)) + member("manifest.jsonl", body)
        tar += member("objects/SHA256/" + hexdigest, data, claimed=size, whole=False)
        write(out, tar)
    elif kind == "sizes":
        sizes = [int(s) for s in args]
        entries = [("f%d" % i, s, hashlib.sha256(b"%d" % i).hexdigest(), "file:///nowhere/f%d" % i)
                   for i, s in enumerate(sizes)]
        body, top = manifest(entries)
        total = sum(sizes)
        tar = member("quilt-bundle.json", bundle_header("t/sizes", top, len(sizes), len(sizes),
                                                         total if total < 2 ** 63 else 0))
        write(out, tar + member("manifest.jsonl", body) + end)
    elif kind == "registry":
        name, sizes = args[0], [int(s) for s in args[1:]]
        entries = [("f%d" % i, s, hashlib.sha256(b"%d" % i).hexdigest(), "file:///nowhere/f%d" % i)
                   for i, s in enumerate(sizes)]
        body, top = manifest(entries)
        os.makedirs(os.path.join(out, ".quilt", "packages"), exist_ok=True)
        with open(os.path.join(out, ".quilt", "packages", top), "wb") as f:
            f.write(body)
        pointers = os.path.join(out, ".quilt", "named_packages", name)
        os.makedirs(pointers, exist_ok=True)
        for pointer in ("1700000000", "latest"):
            with open(os.path.join(pointers, pointer), "w") as f:
                f.write(top)
        print(top)
    else:
        sys.exit("hostile-bundle.py: unknown kind " + kind)


def main():
    main_args(sys.argv[1:])


if __name__ == "__main__":
    main()
