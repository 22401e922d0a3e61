#!/usr/bin/env bash
# Where the Spark embed job's time goes (bench/spark-profile/SparkEmbedProfile.java): lit4j embed
# and the Spark job's variants (the job as it is; Parquet's defaults; a no-op sink; the old
# shuffled partitions), each in its own JVM, on the scenes spark-embed.sh generates, with the
# machine's load before each. Run bench/spark-embed.sh once first (it makes the scenes and builds).
# Usage: bench/spark-profile.sh [work folder] [master, default local[2]] [lit4j embed threads, default 2]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="${1:-/tmp/lit4j-spark-bench}"; master="${2:-local[2]}"; threads="${3:-2}"
java_bin="$(LIT4J_WHICH_JAVA=1 "$root/lit4j")"
cp="$(cat "$root/java/spark/target/classpath.txt"):$root/java/spark/target/classes"
cls="$work/profile-classes"; mkdir -p "$cls"
"$(dirname "$java_bin")/javac" -d "$cls" -cp "$cp" "$root/bench/spark-profile/SparkEmbedProfile.java"
read -r -a flags <<< "$(sed -n '/<spark.jvm.flags>/,/<\/spark.jvm.flags>/p' "$root/java/spark/pom.xml" | sed 's/<[^>]*>//g' | tr '\n' ' ')"
export SPARK_LOCAL_IP=127.0.0.1
spark() {
  rm -rf "$work/profile.parquet"
  "$java_bin" "${flags[@]}" -cp "$cp:$cls" -Dlog4j2.configurationFile="$root/java/spark/log4j2-local.properties" \
    -Dspark.driver.bindAddress=127.0.0.1 -Dspark.driver.host=127.0.0.1 -Dspark.ui.enabled=false \
    io.lit4j.spark.SparkEmbedProfile spark "$master" "$1" "$2" "$work/scenes/train" "$work/profile.parquet" 2>&1 | grep -v '^WARNING'
}
cli() {
  "$java_bin" --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector -XX:+UseParallelGC -Xmn32m -cp "$cp:$cls" \
    io.lit4j.spark.SparkEmbedProfile cli "$threads" "$work/scenes/train" 2>&1 | grep -v '^WARNING'
}
for v in "cli" "spark parquet direct" "spark dict direct" "spark parquet shuffle" "spark noop direct" "cli"; do
  echo "$(date -u +%H:%M:%S) $(uptime | sed 's/.*load/load/')"
  $v
done
