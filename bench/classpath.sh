# Sourced by the bench scripts: builds the engine and bench in one reactor run and sets
#   root      the project root (and cd's there)
#   cp        the bench module's classpath (the engine jar, ONNX Runtime, JMH, bench classes)
#   java_bin  the JDK >= 25 the ./lit4j launcher would use
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
cpfile="$(mktemp)"
trap 'rm -f "$cpfile"' EXIT
# one reactor build: the last module written is bench, whose classpath holds the engine jar and ONNX Runtime
mvn -q -B -DskipTests package dependency:build-classpath -Dmdep.outputFile="$cpfile" -pl bench -am >&2
cp="$(cat "$cpfile"):bench/target/classes"
java_bin="$(LIT4J_WHICH_JAVA=1 "$root/lit4j")"
