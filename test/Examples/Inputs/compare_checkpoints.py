"""Compares the params of two safetensors checkpoints written by dlc.

Prints one line per param (`NAME rel_l2 VALUE ok|FAIL`), the relative L2
difference ||a - b|| / ||b||, and exits 1 when one exceeds the tolerance or
the files do not hold the same params. Standard library only.
"""
import json
import math
import struct
import sys


def read(path):
    with open(path, "rb") as f:
        data = f.read()
    (size,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + size])
    body = data[8 + size:]
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__" or name.startswith("opt.") or info["dtype"] != "F32":
            continue
        begin, end = info["data_offsets"]
        tensors[name] = struct.unpack("<%df" % ((end - begin) // 4), body[begin:end])
    return tensors


def main():
    a, b, tol = read(sys.argv[1]), read(sys.argv[2]), float(sys.argv[3])
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


if __name__ == "__main__":
    sys.exit(main())
