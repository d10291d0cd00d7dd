#!/usr/bin/env bash
# Runs every libFuzzer target of a DLC_BUILD_FUZZERS build for SECONDS each,
# from its committed seeds (test/fuzz/corpus/NAME; new inputs go to a scratch
# copy, the committed corpus is left alone). Exits 1 on the first crash,
# sanitizer report, leak or timeout (the input is left as crash-*/timeout-*
# in the current folder: add it to the seeds and a regression test).
#   test/fuzz/run.sh BUILD_DIR [SECONDS] [TARGET...]
set -euo pipefail
build=${1:?usage: run.sh BUILD_DIR [SECONDS] [TARGET...]}
seconds=${2:-25}
shift $(( $# >= 2 ? 2 : 1 ))
here=$(cd "$(dirname "$0")" && pwd)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(parse idx safetensors model-spec capi-compile)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_container_overflow=0}
for t in "${targets[@]}"; do
  mkdir -p "$scratch/$t"
  start=$SECONDS
  "$build/bin/fuzz-$t" "$scratch/$t" "$here/corpus/$t" -max_total_time="$seconds" \
    -timeout=20 -rss_limit_mb=4096 -max_len=65536 -print_final_stats=1 2>"$scratch/$t.log" || {
    tail -60 "$scratch/$t.log"
    echo "fuzz-$t: FAILED"
    exit 1
  }
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$scratch/$t.log" | grep -o '[0-9]*$')
  echo "fuzz-$t: ${runs:-?} executions in $((SECONDS - start)) s, no crash"
done
