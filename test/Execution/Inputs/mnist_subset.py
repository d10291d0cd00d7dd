#!/usr/bin/env python3
"""Writes the first examples of the bundled MNIST subset as a smaller data
folder, so that tests train the lecture's models on few examples.

  mnist_subset.py SRC_DIR OUT_DIR NTRAIN NTEST
      SRC_DIR holds data/mnist-10k/*.gz (examples/); OUT_DIR gets the same
      layout with the first NTRAIN training and NTEST test examples.
"""

import gzip
import os
import struct
import sys


def subset(src, dst, count):
    with gzip.open(src, "rb") as f:
        data = f.read()
    magic, total = struct.unpack(">II", data[:8])
    ndims = magic & 0xFF
    dims = struct.unpack(">%dI" % (ndims - 1), data[8:4 + 4 * ndims])
    row = 1
    for d in dims:
        row *= d
    count = min(count, total)
    header = struct.pack(">II", magic, count) + data[8:4 + 4 * ndims]
    body = data[4 + 4 * ndims:4 + 4 * ndims + count * row]
    with gzip.open(dst, "wb") as f:
        f.write(header + body)


def main(src_root, out_root, ntrain, ntest):
    src = os.path.join(src_root, "data", "mnist-10k")
    out = os.path.join(out_root, "data", "mnist-10k")
    os.makedirs(out, exist_ok=True)
    for prefix, count in (("train", ntrain), ("t10k", ntest)):
        for kind in ("images-idx3", "labels-idx1"):
            name = "%s-%s-ubyte.gz" % (prefix, kind)
            subset(os.path.join(src, name), os.path.join(out, name), count)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])))
