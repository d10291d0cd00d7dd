#!/usr/bin/env python3
"""Reads and edits dlc's safetensors checkpoints for the tests, with the
`safetensors` package (PyPI) where it is installed (the CI virtualenv,
build/venv), else with a reader of its own (standard library only).

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


try:
    import numpy
    from safetensors import safe_open
    from safetensors.numpy import save_file
except ImportError:
    safe_open = None

DTYPES = {"float32": "F32", "int32": "I32"}


def load(path):
    """Returns ({name: (dtype, shape, raw little-endian bytes)}, metadata)."""
    if safe_open:
        tensors = {}
        with safe_open(path, framework="numpy") as f:
            for name in f.keys():
                t = f.get_tensor(name)
                tensors[name] = (DTYPES.get(str(t.dtype), str(t.dtype)), list(t.shape),
                                 t.astype(t.dtype.newbyteorder("<")).tobytes())
            return tensors, dict(f.metadata() or {})
    with open(path, "rb") as f:
        data = f.read()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    metadata = header.pop("__metadata__", {})
    body = data[8 + length:]
    return {name: (e["dtype"], e["shape"], body[e["data_offsets"][0]:e["data_offsets"][1]])
            for name, e in header.items()}, metadata


def dump(path, names):
    tensors, metadata = load(path)
    for name in names or sorted(tensors):
        dtype, shape, raw = tensors[name]
        print(name, dtype, "x".join(str(d) for d in shape) or "scalar", raw.hex())
    if not names:
        for key in sorted(metadata):
            print("__metadata__", key, metadata[key])
    return 0


def params(path):
    tensors, _ = load(path)
    return {name: struct.unpack("<%df" % (len(raw) // 4), raw)
            for name, (dtype, _, raw) in tensors.items()
            if not name.startswith("opt.") and dtype == "F32"}


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
    tensors, metadata = load(path)
    metadata[key] = value
    if safe_open:
        arrays = {name: numpy.frombuffer(raw, dtype="<f4" if dtype == "F32" else "<i4")
                  .reshape(shape) for name, (dtype, shape, raw) in tensors.items()}
        save_file(arrays, path, metadata=metadata)
        return 0
    header = {"__metadata__": metadata}
    body = b""
    for name, (dtype, shape, raw) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape,
                        "data_offsets": [len(body), len(body) + len(raw)]}
        body += raw
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
