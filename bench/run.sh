#!/usr/bin/env bash
# The whole benchmark: project vs PyTorch, baby and small, 1 and 2 threads, alternating; both sides with
# OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE unset (bench/run.py). Run it under flock on a shared machine:
#   flock /tmp/bench.lock bench/run.sh build --threads 2 --kernels native,avx2
# usage: bench/run.sh [BUILD_DIR (default build)] [extra bench/run.py options, e.g. --reps 2 --compile]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="${1:-$here/../build}"
shift || true
echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, uptime:$(uptime | sed 's/.*load/ load/')"
echo "# kernel path chosen by gpt_bench here: $(GPT_KERNELS= "$build/gpt_bench" sgemm --m 16 --k 16 --n 16 --reps 1 | sed -n 's/.*"kernels": "\([a-z0-9]*\)".*/\1/p')"
exec /usr/bin/python3 "$here/run.py" "$build" "$@"
