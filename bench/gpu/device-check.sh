#!/usr/bin/env bash
# The GPU device check: ONE command, run from the root of a checkout with the bundle made by
# bench/gpu/make-bundle.sh unpacked there (./lit4j-gpu-check/). No JDK, Maven or network needed.
#
#   bench/gpu/device-check.sh OUT_DIR [--quick]
#
# Writes to OUT_DIR: nvidia-smi.txt; tests.log and tests/ (JUnit XML) from the cuda suites
# (-Dlit4j.test.backend=cuda: BackendEquivalenceTest, GradientCheckTest, GoldenParityTest,
# TrainGoldenTest, and io.lit4j.backend.cuda: CudaDeviceTest and the launch/signature/library
# tests); bench.log and bench/ (results.md, results.json, logs/) from GpuCompare (CPU versus GPU
# versus PyTorch); SUMMARY with each step's exit code and seconds and the GOAL lines. Each step
# has a time limit so the whole check ends within 8 minutes. Without a GPU every GPU row and suite
# is skipped, naming why, and the CPU rows still run: that is the dry run bench/gpu/README.md shows.
#
# Environment: LIT4J_CUDA_LIBS (folders of libcublasLt/libcudnn; found through python3's pip
# wheels when unset), LIT4J_PYTHON (default python3: the PyTorch peer), LIT4J_GPU_BUNDLE (default
# ./lit4j-gpu-check), LIT4J_TEST_SECONDS (default 200), LIT4J_BENCH_SECONDS (default 250).
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
out="${1:?usage: bench/gpu/device-check.sh OUT_DIR [--quick]}"
quick="${2:-}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
bundle="$(cd "${LIT4J_GPU_BUNDLE:-$root/lit4j-gpu-check}" && pwd)" || { echo "no bundle: unpack lit4j-gpu-check.tar.xz in $root first" >&2; exit 2; }
python="${LIT4J_PYTHON:-python3}"
java="$bundle/runtime/bin/java"
flags=(--enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector -Xss4m)
jars=("$bundle"/lib/*.jar)
cp="$(IFS=:; echo "${jars[*]}"):$bundle/classes:$bundle/natives" # spelled out: JUnit's --class-path does not expand lib/*
export LIT4J_CACHE="$out/cache"
summary="$out/SUMMARY"
: > "$summary"

step() { # step NAME SECONDS LOG COMMAND...: runs one step under a time limit, records rc and seconds
  local name="$1" limit="$2" log="$3"; shift 3
  local t0=$SECONDS
  echo "[check] $name (limit ${limit}s)" >&2
  timeout --kill-after=10 "$limit" "$@" > "$log" 2>&1
  local rc=$?
  echo "$name rc=$rc seconds=$((SECONDS - t0))$([ $rc -eq 124 ] && echo ' (timed out)')" | tee -a "$summary" >&2
}

if [ -z "${LIT4J_CUDA_LIBS:-}" ] && command -v "$python" >/dev/null; then
  LIT4J_CUDA_LIBS="$("$python" - <<'PY' 2>/dev/null
import glob, os, site
roots = list(site.getsitepackages()) + [site.getusersitepackages()]
print(":".join(d for r in roots for d in sorted(glob.glob(os.path.join(r, "nvidia", "*", "lib"))) if os.path.isdir(d)))
PY
)"
  export LIT4J_CUDA_LIBS
fi
echo "LIT4J_CUDA_LIBS=${LIT4J_CUDA_LIBS:-}" >> "$summary"
echo "bundle commit $(cat "$bundle/COMMIT"), checkout $(git rev-parse HEAD 2>/dev/null || echo unknown)" >> "$summary"

step nvidia-smi 20 "$out/nvidia-smi.txt" nvidia-smi

junit=("$bundle"/lib/junit-platform-console-standalone-*.jar)
suites=(--select-package io.lit4j.backend.cuda --select-class io.lit4j.backend.BackendEquivalenceTest
        --select-class io.lit4j.backend.GradientCheckTest --select-class io.lit4j.model.GoldenParityTest
        --select-class io.lit4j.train.TrainGoldenTest)
# the suites read golden files and native/ relative to the java module, as under Maven
step tests "${LIT4J_TEST_SECONDS:-200}" "$out/tests.log" \
  bash -c 'cd java && exec "$@"' _ "$java" "${flags[@]}" -Dlit4j.test.backend=cuda -jar "${junit[0]}" execute \
  --class-path "$cp:$bundle/test-classes" "${suites[@]}" --reports-dir "$out/tests" --details tree --disable-banner --disable-ansi-colors

bench_args=(--out "$out/bench" --python "$python" --peer bench/peers/torch_peer.py --cpu-threads "$(nproc)")
[ "$quick" = "--quick" ] && bench_args+=(--quick)
step bench "${LIT4J_BENCH_SECONDS:-250}" "$out/bench.log" "$java" "${flags[@]}" -cp "$cp" io.lit4j.bench.GpuCompare "${bench_args[@]}"

# the tally (an aborted container is a suite skipped for want of a GPU), then the GOAL lines
grep -E '^(Test run finished|\[ *[0-9]+ (tests|containers) )' "$out/tests.log" >> "$summary" 2>/dev/null
grep '^GOAL ' "$out/bench.log" >> "$summary" 2>/dev/null
echo "[check] done: $summary" >&2
cat "$summary"
