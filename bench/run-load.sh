#!/usr/bin/env bash
# Served load table (ServeLoad): throughput and p50/p99/p99.9 at 1, 8, 64 and 256 clients over HTTP
# on 127.0.0.1, texts and images, batching on and off, then the in-process figures and GOAL lines.
# Options: --seconds S (per cell, default 3) --warm-seconds W (default 1) --clients 1,8,64,256
#          --kinds text,image --threads T --url http://127.0.0.1:P (a running `lit4j serve --rate 0`)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/classpath.sh"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}"
echo "machine: $(nproc) cores, $(uptime)" >&2
"$java_bin" --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector -XX:+UseParallelGC -Xmn32m \
  -cp "$cp" io.lit4j.bench.ServeLoad "$@"
