#!/usr/bin/env python3
"""Prints tensors of a safetensors file, one line each: NAME DTYPE SHAPE HEX.

Usage: safetensors_dump.py FILE [NAME...]  (no names: every tensor, sorted)
The raw bytes in hex compare values bit for bit; __metadata__ is printed last.
"""

import json
import struct
import sys


def main():
    path, names = sys.argv[1], sys.argv[2:]
    with open(path, "rb") as f:
        data = f.read()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + length])
    body = data[8 + length :]
    metadata = header.pop("__metadata__", {})
    for name in names or sorted(header):
        entry = header[name]
        begin, end = entry["data_offsets"]
        shape = "x".join(str(d) for d in entry["shape"])
        print(name, entry["dtype"], shape or "scalar", body[begin:end].hex())
    if not names:
        for key in sorted(metadata):
            print("__metadata__", key, metadata[key])


if __name__ == "__main__":
    main()
