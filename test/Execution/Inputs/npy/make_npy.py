#!/usr/bin/env python3
"""Writes the small .npy (and matching IDX) files the npy tests read.

Run from anywhere with NumPy installed (Debian's python3-numpy); the files are
committed, so the tests themselves need no NumPy:

    /usr/bin/python3 test/Execution/Inputs/npy/make_npy.py

Good files: the lecture's linear-regression points (x float64, y float32), and
60 synthetic 4x4 uint8 "images" of 3 classes with int64 labels, also written
as IDX so a test can check that both formats train to the same bytes, and the
labels once more as big-endian int32. Bad files: one per header or data
error the reader must report.
"""
import os
import struct

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def path(name):
    return os.path.join(HERE, name)


def write_idx(name, array):
    codes = {np.dtype(np.uint8): 0x08}
    with open(path(name), "wb") as f:
        f.write(bytes([0, 0, codes[array.dtype], array.ndim]))
        for d in array.shape:
            f.write(struct.pack(">I", d))
        f.write(array.tobytes())


def raw_npy(name, header, data=b"", version=(1, 0), magic=b"\x93NUMPY"):
    """A .npy file with the header text given as is (for bad headers)."""
    header = header.encode("latin1")
    length = struct.pack("<H" if version[0] == 1 else "<I", len(header))
    with open(path(name), "wb") as f:
        f.write(magic + bytes(version) + length + header + data)


def main():
    # Lab 4's points, in two dtypes.
    np.save(path("x.npy"), np.array([1, 2, 3, 4], dtype=np.float64))
    np.save(path("y.npy"), np.array([0, -1, -2, -3], dtype=np.float32))

    # 3 classes: a bright row (0), a bright column (1) or the diagonal (2).
    rng = np.random.default_rng(7)
    labels = np.arange(60, dtype=np.int64) % 3
    images = rng.integers(0, 60, size=(60, 4, 4)).astype(np.uint8)
    for i, k in enumerate(labels):
        where = rng.integers(0, 4)
        if k == 0:
            images[i, where, :] = 250
        elif k == 1:
            images[i, :, where] = 250
        else:
            images[i][np.eye(4, dtype=bool)] = 250
    np.save(path("images.npy"), images)
    np.save(path("labels.npy"), labels)
    np.save(path("labels_be.npy"), labels.astype(">i4"))
    write_idx("images.idx", images)
    write_idx("labels.idx", labels.astype(np.uint8))

    # Bad files.
    good = "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }"
    data = np.arange(4, dtype="<f4").tobytes()
    raw_npy("bad_magic.npy", good, data, magic=b"\x93NUMPX")
    raw_npy("bad_version.npy", good, data, version=(4, 0))
    raw_npy("bad_dict.npy", "{'descr': '<f4' 'fortran_order': False, 'shape': (4,), }", data)
    raw_npy("unknown_key.npy", "{'descr': '<f4', 'order': 'C', 'shape': (4,), }", data)
    raw_npy("no_shape.npy", "{'descr': '<f4', 'fortran_order': False, }", data)
    raw_npy("bad_shape.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (4, -1), }", data)
    raw_npy("complex.npy", "{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }", data)
    raw_npy("fortran.npy", "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", data)
    raw_npy("scalar.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (), }", data[:4])
    raw_npy("truncated_data.npy", good, data[:10])
    raw_npy("trailing.npy", good, data + b"\0\0")
    with open(path("truncated_header.npy"), "wb") as f:
        f.write(b"\x93NUMPY\x01\x00\xff\x00{'descr'")
    np.save(path("fractional_labels.npy"), np.array([0, 1.5, 2, 0], dtype=np.float32))


if __name__ == "__main__":
    main()
