#!/usr/bin/env python3
"""Reads and edits dlc's safetensors checkpoints for the tests (standard
library only).

  safetensors_tool.py dump FILE [NAME...]
      One line per tensor: NAME DTYPE SHAPE HEX (no names: every tensor,
      sorted, then the __metadata__); the raw bytes in hex compare values
      bit for bit.
  safetensors_tool.py compare FILE_A FILE_B TOLERANCE
      One line per F32 param (not `opt.*`): NAME rel_l2 VALUE ok|FAIL, the
      relative L2 difference ||a - b|| / ||b||; exits 1 when one exceeds the
      tolerance or the files hold different params.
  safetensors_tool.py set-metadata FILE KEY VALUE
      Rewrites one __metadata__ value in place.
"""

import json
import math
import struct
import sys


def read(path):
    """Returns (header without __metadata__, metadata, data bytes)."""
    with open(path, "rb") as f:
        data = f.read()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    metadata = header.pop("__metadata__", {})
    return header, metadata, data[8 + length:]


def dump(path, names):
    header, metadata, body = read(path)
    for name in names or sorted(header):
        entry = header[name]
        begin, end = entry["data_offsets"]
        shape = "x".join(str(d) for d in entry["shape"])
        print(name, entry["dtype"], shape or "scalar", body[begin:end].hex())
    if not names:
        for key in sorted(metadata):
            print("__metadata__", key, metadata[key])
    return 0


def params(path):
    header, _, body = read(path)
    out = {}
    for name, entry in header.items():
        if name.startswith("opt.") or entry["dtype"] != "F32":
            continue
        begin, end = entry["data_offsets"]
        out[name] = struct.unpack("<%df" % ((end - begin) // 4), body[begin:end])
    return out


def compare(path_a, path_b, tol):
    a, b = params(path_a), params(path_b)
    if sorted(a) != sorted(b):
        print("different params: %s vs %s" % (sorted(a), sorted(b)))
        return 1
    worst = 0.0
    for name in sorted(a):
        diff = math.sqrt(sum((x - y) ** 2 for x, y in zip(a[name], b[name])))
        norm = math.sqrt(sum(y * y for y in b[name]))
        rel = diff / norm if norm else diff
        worst = max(worst, rel)
        print("%s rel_l2 %.3g %s" % (name, rel, "ok" if rel < tol else "FAIL"))
    return 0 if worst < tol else 1


def set_metadata(path, key, value):
    header, metadata, body = read(path)
    metadata[key] = value
    header["__metadata__"] = metadata
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + body)
    return 0


def main():
    command, args = sys.argv[1], sys.argv[2:]
    if command == "dump":
        return dump(args[0], args[1:])
    if command == "compare":
        return compare(args[0], args[1], float(args[2]))
    if command == "set-metadata":
        return set_metadata(*args)
    print("unknown command", command)
    return 2


if __name__ == "__main__":
    sys.exit(main())
