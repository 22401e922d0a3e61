#!/usr/bin/env bash
# Builds native/cuda/*.cu into one fatbin for the jar: SASS for sm_80 (A100) and sm_90 (H100/H200)
# plus compute_80 PTX, which the driver JIT-compiles for any newer GPU. Run by Maven (the
# cuda-kernels profile in java/pom.xml) at generate-resources; usable by hand too:
#
#   native/build-kernels.sh OUT_DIR      writes OUT_DIR/io/lit4j/backend/cuda/lit4j_kernels.fatbin
#
# nvcc is found as $NVCC, then on the PATH, then as $CUDA_HOME/bin/nvcc (never a fixed folder).
# Without one the build goes on and says so: the jar then has no kernels, and the cuda backend
# reports "no kernels in this build". Nothing built here is committed.
set -euo pipefail
out="${1:?usage: build-kernels.sh OUT_DIR}"
here="$(cd "$(dirname "$0")" && pwd)"
src="$here/cuda/lit4j_kernels.cu"
dst="$out/io/lit4j/backend/cuda/lit4j_kernels.fatbin"

nvcc="${NVCC:-}"
if [[ -z "$nvcc" ]]; then
  nvcc="$(command -v nvcc || true)"
fi
if [[ -z "$nvcc" && -n "${CUDA_HOME:-}" && -x "$CUDA_HOME/bin/nvcc" ]]; then
  nvcc="$CUDA_HOME/bin/nvcc"
fi
if [[ -z "$nvcc" ]]; then
  echo "[lit4j] no nvcc (not \$NVCC, not on the PATH, not \$CUDA_HOME/bin): no kernels in this build"
  rm -f "$dst"
  exit 0
fi

if [[ -f "$dst" && "$dst" -nt "$src" && "$dst" -nt "$0" ]]; then
  exit 0 # up to date
fi
mkdir -p "$(dirname "$dst")"
start=$(date +%s)
"$nvcc" -fatbin -O3 -std=c++17 -Werror all-warnings \
  -gencode arch=compute_80,code=sm_80 \
  -gencode arch=compute_90,code=sm_90 \
  -gencode arch=compute_80,code=compute_80 \
  -o "$dst.tmp" "$src"
mv -f "$dst.tmp" "$dst"
echo "[lit4j] CUDA kernels: $(basename "$dst") ($(stat -c %s "$dst") bytes) by $("$nvcc" --version | tail -1) in $(( $(date +%s) - start )) s"
