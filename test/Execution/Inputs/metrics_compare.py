#!/usr/bin/env python3
"""Compares one scalar of the train lines of two metrics.jsonl files.

  metrics_compare.py A.jsonl B.jsonl KEY TOLERANCE
      One line per logged train step: step STEP KEY A B ok|FAIL; exits 1 when
      |A - B| exceeds TOLERANCE relative to |A|, when a line lacks KEY, or
      when the files log different steps.
"""

import json
import sys


def train_values(path, key):
    values = {}
    for line in open(path):
        record = json.loads(line)
        if record["set"] == "train":
            values[record["step"]] = record.get(key)
    return values


def main(path_a, path_b, key, tol):
    a, b = train_values(path_a, key), train_values(path_b, key)
    if sorted(a) != sorted(b) or not a:
        print("different steps: %s vs %s" % (sorted(a), sorted(b)))
        return 1
    failed = False
    for step in sorted(a):
        va, vb = a[step], b[step]
        ok = va is not None and vb is not None and abs(va - vb) <= tol * abs(va)
        failed |= not ok
        print("step", step, key, va, vb, "ok" if ok else "FAIL")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])))
