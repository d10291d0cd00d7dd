"""Compares the evaluated metrics of two `dlc train --report` files.

usage: compare_reports.py A.json B.json TOL

Every set's loss and metrics in A must be within TOL (relative) of B's: the
loss and accuracy sums are reductions of their own, which the params alone
do not check.
"""
import json
import sys


def main():
    a, b = (json.load(open(p))["sets"] for p in sys.argv[1:3])
    tol = float(sys.argv[3])
    if sorted(a) != sorted(b):
        print("different sets: %s vs %s" % (sorted(a), sorted(b)))
        return 1
    worst = 0.0
    for name in sorted(a):
        for key in sorted(set(a[name]) | set(b[name])):
            x, y = a[name].get(key), b[name].get(key)
            if x is None or y is None:
                print("%s: %s only in one report" % (name, key))
                return 1
            rel = abs(x - y) / max(abs(y), 1e-30)
            worst = max(worst, rel)
            print("%s %s %.9g vs %.9g rel %.3g %s" % (name, key, x, y, rel,
                                                      "ok" if rel < tol else "FAIL"))
    return 0 if worst < tol else 1


if __name__ == "__main__":
    sys.exit(main())
