#!/usr/bin/env bash
# Assembles the PTX of every example with ptxas, for sm_80 and sm_90: each
# kernel module the CUDA target writes must be valid PTX for both. Skipped
# (exit 77) where there is no ptxas (the CUDA toolkit's, or on the PATH).
# Usage: ptxas-examples.sh DLC EXAMPLES_DIR
set -euo pipefail
dlc=$1 examples=$2
toolkit=${CUDA_HOME:-${CUDA_PATH:-/usr/local/cuda}}
ptxas=$toolkit/bin/ptxas
[ -x "$ptxas" ] || ptxas=$(command -v ptxas || true)
if [ -z "$ptxas" ]; then
  echo "SKIPPED: no ptxas (install the CUDA toolkit or set CUDA_HOME)"
  exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export XDG_CACHE_HOME=$tmp/cache
total=0
for arch in sm_80 sm_90; do
  for model in "$examples"/*.dl; do
    name=$(basename "$model" .dl)
    dir=$tmp/$arch/$name
    mkdir -p "$dir"
    "$dlc" compile "$model" --target=cuda --gpu-arch=$arch --emit=ptx -o "$dir/all.ptx"
    # One file per kernel module (the text starts each with its name).
    awk -v dir="$dir" '/^\/\/ gpu.module @/ { n++; f = sprintf("%s/k%04d.ptx", dir, n) } n { print > f }' "$dir/all.ptx"
    count=0
    for ptx in "$dir"/k*.ptx; do
      [ -e "$ptx" ] || continue
      if ! "$ptxas" -arch=$arch "$ptx" -o /dev/null; then
        echo "FAIL: ptxas -arch=$arch rejected $(head -1 "$ptx") of $name"
        exit 1
      fi
      count=$((count + 1))
    done
    echo "$arch $name: $count kernels assembled"
    total=$((total + count))
  done
done
echo "ok: $total kernel modules accepted by $ptxas"
