#!/usr/bin/env bash
# Builds the JMH jar and runs lit4j's op micro-benchmarks. Extra arguments go to JMH, e.g.
#   bench/run-jmh.sh OpsBenchmark.linear -p linearShape=6304x768x3072 -p threads=1
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
(cd "$root" && mvn -q -B -Pbench -DskipTests package -pl bench -am)
java_bin="$(LIT4J_WHICH_JAVA=1 "$root/lit4j")"
exec "$java_bin" --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector -jar "$root/bench/target/lit4j-benchmarks.jar" "$@"
