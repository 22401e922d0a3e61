#!/usr/bin/env bash
# The comparison harness: lit4j fp32/bf16 beside PyTorch (Debian python3-torch) and ONNX Runtime Java,
# same weights and inputs, one run, alternating contenders. Options: --quick --threads N --rounds R --out DIR
# Writes DIR/results.md, results.png, results.json and prints GOAL lines last.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
cpfile="$(mktemp)"
trap 'rm -f "$cpfile"' EXIT
# one reactor build: the last module written is bench, whose classpath holds the engine jar and ONNX Runtime
mvn -q -B -DskipTests package dependency:build-classpath -Dmdep.outputFile="$cpfile" -pl bench -am >&2
cp="$(cat "$cpfile"):bench/target/classes"
java_bin="$(LIT4J_WHICH_JAVA=1 "$root/lit4j")"
out="bench/results"
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do [ "${args[$i]}" = "--out" ] && out="${args[$((i + 1))]}"; done
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}"
"$java_bin" --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector -cp "$cp" io.lit4j.bench.Compare \
  --peers bench/peers --out "$out" "$@"
