#!/usr/bin/env bash
# In-process text throughput with and without the micro-batcher (BatcherThroughput): batch 1 one
# after another, C concurrent submitters through a Batcher, and full batches of C as the ceiling.
# Options: --model default|bert-base|text-B --texts N --clients C --threads T --warm SECONDS (the batcher's warm-up limit) --out DIR (random models)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/classpath.sh"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}"
"$java_bin" --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector -cp "$cp" io.lit4j.bench.BatcherThroughput "$@"
