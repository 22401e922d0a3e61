#!/usr/bin/env bash
# The comparison harness: lit4j fp32/bf16 beside PyTorch (Debian python3-torch) and ONNX Runtime Java,
# same weights and inputs, one run, alternating contenders. Options: --quick --threads N --rounds R --out DIR
# Writes DIR/results.md, results.png, results.json and prints GOAL lines last.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/classpath.sh"
out="bench/results"
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do [ "${args[$i]}" = "--out" ] && out="${args[$((i + 1))]}"; done
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}"
"$java_bin" --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector -cp "$cp" io.lit4j.bench.Compare \
  --peers bench/peers --out "$out" "$@"
