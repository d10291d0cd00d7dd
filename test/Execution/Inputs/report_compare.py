#!/usr/bin/env python3
"""Compares one value of every set in two `dlc train --report` files.

  report_compare.py A.json B.json VALUE TOLERANCE
      One line per set: SET VALUE A B ok|FAIL; exits 1 when |A - B| exceeds
      TOLERANCE (absolute) or the files report different sets.
"""

import json
import sys


def main(path_a, path_b, value, tol):
    a = json.load(open(path_a))["sets"]
    b = json.load(open(path_b))["sets"]
    if sorted(a) != sorted(b):
        print("different sets: %s vs %s" % (sorted(a), sorted(b)))
        return 1
    failed = False
    for name in sorted(a):
        va, vb = a[name][value], b[name][value]
        ok = abs(va - vb) <= tol
        failed |= not ok
        print(name, value, va, vb, "ok" if ok else "FAIL")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])))
