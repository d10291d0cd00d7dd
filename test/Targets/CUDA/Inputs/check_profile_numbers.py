"""Checks a DLC_CUDA_PROFILE table against `dlc compile --emit=ptx`.

usage: check_profile_numbers.py PROFILE PTX

Every profile line "#N NAME ..." must name the kernel of the module that
--emit=ptx headed "(kernel #N)": the numbers a profile gives lead to the
right PTX.
"""
import re
import sys


def main():
    entries, current = {}, None
    for line in open(sys.argv[2]):
        head = re.match(r"// gpu\.module @\w+ \(kernel #(\d+)\)", line)
        if head:
            current = int(head.group(1))
        entry = re.search(r"\.entry (\w+)\(", line)
        if entry and current is not None:
            entries[current] = entry.group(1)
    checked = bad = 0
    for line in open(sys.argv[1]):
        row = re.match(r"#(\d+) (\w+)", line)
        if not row:
            continue
        checked += 1
        if entries.get(int(row.group(1))) != row.group(2):
            bad += 1
            print("profile line %r: kernel #%s of the PTX is %s" %
                  (line.strip(), row.group(1), entries.get(int(row.group(1)))))
    print("%d kernels checked, %d wrong" % (checked, bad))
    return 1 if bad or not checked else 0


if __name__ == "__main__":
    sys.exit(main())
