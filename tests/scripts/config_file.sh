#!/usr/bin/env bash
# A value from a config file arrives (CLI11 on a subcommand silently ignores config files: CLI11#1056),
# the command line overrides the file, and the effective config is written into the run folder and the
# checkpoint.
set -euo pipefail
build=$1
gpt="$build/gpt"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

for i in $(seq 1 400); do echo "line $i of a small corpus, with some words to learn from."; done > "$dir/corpus.txt"
cat > "$dir/cfg.toml" <<TOML
# a comment
[train]
data = "$dir/corpus.txt"
n_layer = 1
n_head = 2
n_embd = 16
block_size = 8
batch_size = 2
max_iters = 3
eval_interval = 3
eval_iters = 1
log_interval = 1
lr = 0.002   # trailing comment
sample_tokens = 0
TOML

"$gpt" train --config "$dir/cfg.toml" --out_dir "$dir/run" --lr 0.003 2>"$dir/log"
grep -q '^n_layer = 1$' "$dir/run/config.toml" || { echo "n_layer from the file did not arrive"; cat "$dir/run/config.toml"; exit 1; }
grep -q '^block_size = 8$' "$dir/run/config.toml" || { echo "block_size from the file did not arrive"; exit 1; }
grep -q '^lr = 0.003' "$dir/run/config.toml" || { echo "--lr on the command line did not override the file"; exit 1; }
[ "$(wc -l < "$dir/run/metrics.jsonl")" -eq 3 ] || { echo "expected 3 metrics lines"; exit 1; }
h5dump -a /config/n_layer "$dir/run/ckpt.h5" | grep -q '(0): 1' || { echo "checkpoint /config/n_layer is not 1"; exit 1; }

# An unknown key is an error naming the key and line; so is a key with no value.
printf '[train]\nn_layer = 1\nn_layerz = 2\n' > "$dir/bad.toml"
if "$gpt" train --config "$dir/bad.toml" 2>"$dir/err"; then echo "unknown key accepted"; exit 1; fi
grep -q "bad.toml:3: unknown key 'n_layerz'" "$dir/err" || { echo "message does not name the key:"; cat "$dir/err"; exit 1; }
printf '[train]\nlr =\n' > "$dir/bad2.toml"
if "$gpt" train --config "$dir/bad2.toml" 2>"$dir/err"; then echo "empty value accepted"; exit 1; fi
grep -q "bad2.toml:2: key 'lr' has no value" "$dir/err" || { cat "$dir/err"; exit 1; }
echo "config file: ok"
