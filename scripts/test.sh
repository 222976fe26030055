#!/usr/bin/env bash
# The README's test command: set up (idempotent), build, run the whole suite (ctest), then the
# sanitizer build (ASan + UBSan) over the suite as well.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
ctest --test-dir build --output-on-failure
