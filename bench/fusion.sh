#!/usr/bin/env bash
# The MNIST CNN's train step (batch 50, Adam, dropout) with and without
# fusion, in fresh processes, interleaved over several rounds, pinned to one
# core: median [min, max] of the time per step, the bytes the step allocates
# on the heap, and the peak resident memory while stepping.
#
# Two allocator settings: glibc's default (what `dlc train` runs with; its
# dynamic mmap threshold keeps freed multi-MB buffers in the heap, so the
# peak RSS mostly shows the allocator's reuse) and MALLOC_MMAP_THRESHOLD_=
# 131072 (every buffer over 128 KiB is its own mapping, returned when freed,
# so the peak RSS shows the memory live at once; each step then also pays
# for page faults).
#
#   bench/fusion.sh [ROUNDS] [STEPS]      (build first: cmake --build build)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-5}
STEPS=${2:-50}
BIN=build/bin/dlc-bench-fusion
PIN=()
if command -v taskset > /dev/null; then PIN=(taskset -c 0); fi
OUT=$(mktemp)
trap 'rm -f "$OUT"' EXIT
echo "# $(date -u +%Y-%m-%d) $(uname -n), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $ROUNDS rounds of $STEPS steps"
for round in $(seq "$ROUNDS"); do
  for alloc in default mmap128k; do
    for flag in "" --no-fusion; do
      if [ "$alloc" = mmap128k ]; then
        line=$(MALLOC_MMAP_THRESHOLD_=131072 "${PIN[@]}" "$BIN" $flag --steps "$STEPS")
      else
        line=$("${PIN[@]}" "$BIN" $flag --steps "$STEPS")
      fi
      echo "alloc=$alloc $line" >> "$OUT"
    done
  done
done
python3 - "$OUT" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    kv = dict(f.split("=") for f in line.split())
    rows.setdefault((kv["alloc"], kv["fusion"]), []).append(kv)
def cell(values, fmt):
    v = sorted(values)
    return (fmt + " [" + fmt + ", " + fmt + "]") % (statistics.median(v), v[0], v[-1])
print("| allocator | fusion | ms/step | MB allocated/step | allocations/step | peak RSS MiB | step peak over resident MiB |")
print("| --- | --- | --- | --- | --- | --- | --- |")
for (alloc, fusion), kvs in sorted(rows.items(), key=lambda x: (x[0][0], x[0][1] == "off")):
    print("| %s | %s | %s | %s | %s | %s | %s |" % (
        alloc, fusion,
        cell([float(k["ms_per_step"]) for k in kvs], "%.2f"),
        cell([float(k["bytes_per_step"]) / 1e6 for k in kvs], "%.1f"),
        cell([float(k["allocs_per_step"]) for k in kvs], "%.0f"),
        cell([float(k["peak_rss_mib"]) for k in kvs], "%.0f"),
        cell([float(k["step_peak_mib"]) for k in kvs], "%.0f")))
PY
