#!/usr/bin/env bash
# Spark's overhead on one machine: the lit4j-spark embed job on local[2] (two tasks, one oneDNN
# thread each) against `lit4j embed --threads 2`, on the same 10,000 generated scenes (64 px PNGs).
# Both exclude JVM start: the Spark job reports its own time from loading the model to the Parquet
# committed; lit4j embed's is its wall time less that of the same command on one image (JVM start
# and model load); the Spark job also says how much of its time loading the model took, and its rate
# without it. Runs the pair ROUNDS times (default 4), alternating which goes first, with the
# machine's load before each, since the machine may be shared. Usage: bench/spark-embed.sh [work folder]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="${1:-/tmp/lit4j-spark-bench}"
n=10000
mkdir -p "$work"
[ -d "$work/scenes" ] || "$root/lit4j" dataset scenes --out "$work/scenes" --train "$n" --test 16 --quiet
now() { date +%s.%N; }
"$root/lit4j" --version >/dev/null                      # build both before anything is timed
"$root/java/spark/lit4j-spark" --version >/dev/null
cli() {
  echo "  $(uptime)"
  local t0 t1 t2
  t0=$(now); "$root/lit4j" embed --threads 2 --images "$work/scenes/train/images/000000.png" --out "$work/one.npy" --quiet >/dev/null
  t1=$(now); "$root/lit4j" embed --threads 2 --images "$work/scenes/train/images" --out "$work/cli.npy" --quiet >/dev/null
  t2=$(now)
  awk -v a="$t0" -v b="$t1" -v c="$t2" -v n="$n" 'BEGIN { s = (c - b) - (b - a); printf "  lit4j embed --threads 2: %.1f s, %.0f images/s\n", s, n / s }'
}
spark() {
  echo "  $(uptime)"
  rm -rf "$work/z.parquet"
  "$root/java/spark/lit4j-spark" embed --master 'local[2]' --images "$work/scenes/train" --out "$work/z.parquet" 2>&1 | grep 'images/s' | sed 's/^/  spark local[2]: /'
}
# alternating: odd rounds run lit4j embed first, even rounds Spark first, so neither always runs on a warmer machine
for round in $(seq 1 "${ROUNDS:-4}"); do
  echo "round $round ($(date -u +%H:%M:%S) UTC)"
  if [ $((round % 2)) -eq 1 ]; then cli; spark; else spark; cli; fi
done
