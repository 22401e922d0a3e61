#!/usr/bin/env bash
# Builds the GPU device check's bundle: ONE archive that, unpacked next to a checkout of this
# repository, runs bench/gpu/device-check.sh on a machine with a GPU and no JDK, Maven or network.
#
#   bench/gpu/make-bundle.sh [OUT.tar.xz]        (default: bench/gpu/target/lit4j-gpu-check.tar.xz)
#
# The archive holds (see bench/gpu/README.md):
#   runtime/   a jlink'ed JDK 25 with only java.base, java.logging, java.management, java.xml, jdk.incubator.vector,
#              jdk.zipfs (JUnit scans jars through it)
#              (--strip-debug --no-man-pages --no-header-files; no java.desktop: the PNG chart is
#              drawn afterwards from results.json, which keeps the bundle under its size)
#   lib/       lit4j (without its default model), the bindings, gson, commons-compress, the JUnit
#              console launcher; no tokenizer natives (the check feeds token ids)
#   classes/   the bench module's classes;   test-classes/   the java module's test classes (no
#              resources: the golden files are read from the checkout)
#   natives/   libdnnl.so.3 and libgomp.so.1 where lit4j's DnnlLibrary looks for them on the class path
# The whole tar is xz-compressed (-9e), which shrinks the JDK and oneDNN far better than jlink's zip.
# Fails if the archive reaches 40 MiB: the repository and the bundle must fit 64 MiB together.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
archive="${1:-bench/gpu/target/lit4j-gpu-check.tar.xz}"
limit=$((40 * 1024 * 1024))
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
stage="$work/lit4j-gpu-check"
mkdir -p "$stage"/{lib,classes,test-classes,natives}

junit="$(sed -n 's:.*<junit.version>\(.*\)</junit.version>.*:\1:p' pom.xml)"
cpfile="$work/cp.txt"
echo "[bundle] building (mvn package, tests compiled, not run)" >&2
mvn -q -B -DskipTests package dependency:build-classpath -Dmdep.outputFile="$cpfile" -pl bench -am >&2
mvn -q -B org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy \
  -Dartifact="org.junit.platform:junit-platform-console-standalone:$junit" -DoutputDirectory="$stage/lib" >&2

# jars: what the suites and the benchmark load, nothing else (no DJL, ONNX Runtime, Helidon, JMH)
IFS=: read -r -a jars < "$cpfile" || true # the file has no final newline
for j in "${jars[@]}"; do
  case "$(basename "$j")" in
    lit4j-bindings-*.jar|gson-*.jar|commons-compress-*.jar|commons-io-*.jar|commons-lang3-*.jar|commons-codec-*.jar) cp "$j" "$stage/lib/" ;;
    lit4j-*.jar)
      # the engine jar without the shipped default model (6 MB the check never opens)
      cp "$j" "$stage/lib/"
      zip -q -d "$stage/lib/$(basename "$j")" 'io/lit4j/models/default/*' >/dev/null || true ;;
    dnnl-*-linux-x86_64.jar)
      (cd "$stage/natives" && unzip -q "$j" 'org/bytedeco/dnnl/linux-x86_64/libdnnl.so.3' 'org/bytedeco/dnnl/linux-x86_64/libgomp.so.1') ;;
  esac
done
[ -f "$stage/natives/org/bytedeco/dnnl/linux-x86_64/libdnnl.so.3" ] || { echo "[bundle] no libdnnl.so.3 on the bench classpath" >&2; exit 1; }
cp -r bench/target/classes/. "$stage/classes/"
(cd java/target/test-classes && find . -name '*.class' -print0 | tar --null -T - -cf -) | tar -C "$stage/test-classes" -xf -

java_bin="$(LIT4J_WHICH_JAVA=1 ./lit4j)"
jdk="$(dirname "$(dirname "$(readlink -f "$java_bin")")")"
"$jdk/bin/jlink" --add-modules java.base,java.logging,java.management,java.xml,jdk.incubator.vector,jdk.zipfs --strip-debug --no-man-pages --no-header-files \
  --compress zip-0 --output "$stage/runtime" 2>&1 | { grep -v "incubator modules" >&2 || true; }
"$jdk/bin/java" -version 2>&1 | head -1 > "$stage/JDK"
git rev-parse HEAD > "$stage/COMMIT" 2>/dev/null || echo unknown > "$stage/COMMIT"

mkdir -p "$(dirname "$archive")"
echo "[bundle] compressing (xz -9e, a few minutes on 2 cores)" >&2
tar -C "$work" -cf - lit4j-gpu-check | xz -9e -T0 > "$archive.tmp"
mv -f "$archive.tmp" "$archive"
size=$(stat -c %s "$archive")
echo "[bundle] $archive: $((size / 1024 / 1024)) MiB ($size bytes; limit $limit)"
du -sh "$stage"/* | sed 's/^/[bundle]   /' >&2
if [ "$size" -ge "$limit" ]; then
  echo "[bundle] too big: the repository and the bundle must fit 64 MiB together" >&2
  exit 1
fi
