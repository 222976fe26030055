#!/usr/bin/env bash
# The whole benchmark: project vs PyTorch 1.13, baby and small, 1 and 2 threads, alternating.
# usage: bench/run.sh [BUILD_DIR (default build)] [extra bench/run.py options, e.g. --reps 2]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="${1:-$here/../build}"
shift || true
echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, uptime:$(uptime | sed 's/.*load/ load/')"
exec /usr/bin/python3 "$here/run.py" "$build" "$@"
