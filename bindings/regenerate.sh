#!/usr/bin/env bash
# Re-runs jextract for the five binding packages (see README.md). Needs jextract on the PATH and
# the headers; it replaces src/main/java/io/lit4j/bindings/* only when every package generated.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

command -v jextract >/dev/null 2>&1 || { echo "regenerate.sh: jextract is not on the PATH (build openjdk/jextract for JDK 25)" >&2; exit 1; }

DNNL_JAR="${DNNL_JAR:-$HOME/.m2/repository/org/bytedeco/dnnl/3.13-1.5.14/dnnl-3.13-1.5.14-linux-x86_64.jar}"
CUDA_HOME="${CUDA_HOME:-/usr/local/cuda}"
CUDNN_HOME="${CUDNN_HOME:-$CUDA_HOME}"
CUBLAS_HOME="${CUBLAS_HOME:-$CUDA_HOME}"
GCC_INCLUDE="${GCC_INCLUDE:-$(gcc -print-file-name=include)}"

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

if [ -z "${DNNL_INC:-}" ]; then
  (cd "$scratch" && unzip -q "$DNNL_JAR" 'org/bytedeco/dnnl/linux-x86_64/include/*')
  DNNL_INC="$scratch/org/bytedeco/dnnl/linux-x86_64/include"
fi

out="$scratch/out"
mkdir -p "$out"
sym="$here/symbols"
jextract --output "$out" -t io.lit4j.bindings.dnnl --header-class-name dnnl_h -I "$DNNL_INC" @"$sym/dnnl.symbols" "$DNNL_INC/oneapi/dnnl/dnnl.h"
jextract --output "$out" -t io.lit4j.bindings.cuda --header-class-name cuda_h -I "$CUDA_HOME/include" @"$sym/cuda.symbols" "$CUDA_HOME/include/cuda.h"
jextract --output "$out" -t io.lit4j.bindings.cudnn --header-class-name cudnn_h -I "$CUDNN_HOME/include" -I "$CUDA_HOME/include" @"$sym/cudnn.symbols" "$CUDNN_HOME/include/cudnn_graph.h"
jextract --output "$out" -t io.lit4j.bindings.cublas --header-class-name cublas_h -I "$CUBLAS_HOME/include" -I "$CUDA_HOME/include" @"$sym/cublas.symbols" "$CUBLAS_HOME/include/cublasLt.h"
jextract --output "$out" -t io.lit4j.bindings.omp --header-class-name omp_h -D '__malloc__(...)=' -I "$GCC_INCLUDE" @"$sym/omp.symbols" "$GCC_INCLUDE/omp.h"

rm -rf "$here/src/main/java/io/lit4j/bindings"
mkdir -p "$here/src/main/java/io/lit4j"
cp -r "$out/io/lit4j/bindings" "$here/src/main/java/io/lit4j/"
echo "regenerated: $(find "$here/src/main/java/io/lit4j/bindings" -name '*.java' | wc -l) files"
