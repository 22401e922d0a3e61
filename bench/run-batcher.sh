#!/usr/bin/env bash
# In-process text throughput with and without the micro-batcher (BatcherThroughput): batch 1 one
# after another, C concurrent submitters through a Batcher, and full batches of C as the ceiling.
# Options: --model default|bert-base|text-B --texts N --clients C --threads T --warm SECONDS (the batcher's warm-up limit) --out DIR (random models)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
cpfile="$(mktemp)"
trap 'rm -f "$cpfile"' EXIT
mvn -q -B -o -DskipTests package dependency:build-classpath -Dmdep.outputFile="$cpfile" -pl bench -am >&2
cp="$(cat "$cpfile"):bench/target/classes"
java_bin="$(LIT4J_WHICH_JAVA=1 "$root/lit4j")"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}"
"$java_bin" --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector -cp "$cp" io.lit4j.bench.BatcherThroughput "$@"
