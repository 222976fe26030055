#!/usr/bin/env bash
# The README's main job: set up (idempotent), build, train the default config (a small character-level
# GPT on Debian's fortunes), write runs/default/ckpt.h5, and print a sample of generated text.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
./build/gpt train --config configs/default.toml "$@"
