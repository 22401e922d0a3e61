#!/usr/bin/env bash
# Soak (Soak): lit4j serve from the shaded jar under steady mixed traffic; samples RSS, open fds and
# native memory (NMT); exits non-zero with one line on RSS growth >= 5 % after warm-up, fd growth,
# any error or any failed request that was not a 429.
# Options: --minutes N (default 10) --clients C (default 8) --jar PATH (default: the newest java/target/lit4j-*-all.jar)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/classpath.sh"
export DJL_CACHE_DIR="${DJL_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/lit4j/djl}"
echo "machine: $(nproc) cores, $(uptime)" >&2
"$java_bin" -cp "$cp" io.lit4j.bench.Soak --root "$root" "$@"
