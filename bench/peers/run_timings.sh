#!/bin/bash
# The timing matrix of bench/peers/README.md, one measurement at a time (run nothing else meanwhile).
#   bench/peers/run_timings.sh [MODELS_DIR [OUT.jsonl]]
# Writes random ViT-B/16 and BERT-base lit4j folders into MODELS_DIR (default
# /tmp/lit4j-peer-models) unless they are there, then appends one JSON line per run to OUT.jsonl.
# Before each run it waits (up to WAIT_IDLE_S seconds, default 600) until the CPUs are idle.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
M=${1:-/tmp/lit4j-peer-models}
OUT=${2:-$M/timings.jsonl}
PY=/usr/bin/python3
for c in vit-b16 bert-base; do
  [ -f "$M/$c/model.safetensors" ] || $PY "$HERE/make_random_model.py" --config "$HERE/configs/$c.json" --out "$M/$c" --seed 0
done
busy() {  # percent of all CPU time used (by anything) over 3 seconds
  read -r _ a b c d e f g _ < /proc/stat; local t1=$((a+b+c+d+e+f+g)) i1=$((d+e))
  sleep 3
  read -r _ a b c d e f g _ < /proc/stat; local t2=$((a+b+c+d+e+f+g)) i2=$((d+e))
  echo $(( 100 - 100 * (i2 - i1) / (t2 - t1 + 1) ))
}
wait_idle() {
  local waited=0 b
  while b=$(busy); [ "$b" -gt 5 ] && [ $waited -lt "${WAIT_IDLE_S:-600}" ]; do
    echo "  (CPUs ${b}% busy; waiting)" >&2; sleep 20; waited=$((waited + 23))
  done
}
# A run during which other processes used the CPUs (JSON "contended", from "others_cpu_s") is
# repeated, up to 3 tries; the last try is kept either way.
run() {
  local try line
  for try in 1 2 3; do
    wait_idle
    echo "+ torch_peer.py $*" >&2
    line=$($PY "$HERE/torch_peer.py" --threads 2 --warmup 2 --iters 5 "$@")
    echo "$line" | grep -q '"contended": true' || break
    echo "  (contended: $(echo "$line" | grep -o '"others_cpu_s": [0-9.]*'); again)" >&2
  done
  echo "$line" | tee -a "$OUT"
}
# ONLY="image text train" (default all) selects parts; DTYPES="fp32 bf16" likewise.
want() { [[ " ${ONLY:-image text train} " == *" $1 "* ]] && [[ " ${DTYPES:-fp32 bf16} " == *" $2 "* ]]; }
for d in fp32 bf16; do for b in 1 32; do want image $d && run --model "$M/vit-b16" --tower image --batch $b --dtype $d; done; done
for b in 1 256; do want text fp32 && run --model "$M/bert-base" --tower text --batch $b --tokens 16 --dtype fp32; done
for d in fp32 bf16; do for b in 64 256; do want train $d && run --model "$M/bert-base" --tower text --train --batch $b --tokens 16 --dtype $d; done; done
true
