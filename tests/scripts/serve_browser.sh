#!/usr/bin/env bash
# gpt serve in a real browser: Playwright (npm playwright-core, fetched once with `npm pack` into the
# build folder) drives Debian's chromium headless, with its default request headers, over two tiny trained
# runs. The page must render the training curves of the opened run (round ticks, the ln V line, stable
# colours), the tokens and n_layer × n_head attention maps of a typed prompt, the model diagram with one
# row per block as the checkpoint is configured, each stage's view for a chosen token with the numbers
# the API sends (q, k, v, the softmax row summing to 1, the head's output, the logits, x₀), explanations
# in the language chosen (remembered), bars that move with the temperature, "next token", an empty
# prompt's message, a model whose maps exceed the response bound (one layer's maps shown, a picker, a
# note for what "all" leaves out, no refused request), a page that fits 700 px, the backpropagation view's gradient bars, target picker,
# step and grouped tape, and a run that `gpt train` is writing (the loss curve grows); no API answer
# compressed or over the bound, no console errors; a bert run (maps drawn whole, the bars labelled as the
# prediction at the position, a [MASK] there, no next token or stream) and a transformer run (its source and
# target view: the greedy translation, encoder, decoder and cross-attention maps, the decoder's candidates
# at a clicked position, beam translation; no backpropagation tab). Screenshots go to BUILD_DIR/serve_screenshots/. The
# driver is serve_browser.js.
# Skipped (77) only when chromium or node/npm are missing and cannot be installed, or npm cannot fetch
# playwright-core (no registry); scripts/setup.sh --tests installs chromium, nodejs and npm.
set -uo pipefail
BUILD_DIR=$(cd "${1:?usage: bash serve_browser.sh BUILD_DIR [PYTHON]}" && pwd)
GPT="$BUILD_DIR/gpt"
PYTHON=${2:-/usr/bin/python3}
HERE=$(cd "$(dirname "$0")" && pwd)
[ -x "$GPT" ] || { echo "FAIL: $GPT not built"; exit 1; }
CHROMIUM=${GPT_CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || { echo "skipped: no $CHROMIUM (scripts/setup.sh --tests installs chromium)"; exit 77; }
command -v node > /dev/null && command -v npm > /dev/null || { echo "skipped: node/npm missing (scripts/setup.sh --tests installs them)"; exit 77; }

PLAYWRIGHT_VERSION=1.65.1
PW_DIR="$BUILD_DIR/node_cache/playwright-core-$PLAYWRIGHT_VERSION"
if [ ! -f "$PW_DIR/package/index.js" ]; then
    mkdir -p "$PW_DIR"
    if ! (cd "$PW_DIR" && npm pack --silent "playwright-core@$PLAYWRIGHT_VERSION" > npm.log 2>&1 && tar xzf playwright-core-*.tgz); then
        echo "skipped: npm pack playwright-core@$PLAYWRIGHT_VERSION failed: $(tail -3 "$PW_DIR/npm.log")"
        rm -rf "$PW_DIR"
        exit 77
    fi
fi

source "$(dirname "$0")/serve_lib.bash"
serve_workdir serve_browser

SMALL=(--n_embd 16 --block_size 16 --batch_size 4 --eval_iters 2 --sample_tokens 0 --threads 1 --report_every 0
       --data "$WORK/corpus.txt")
TINY=(--n_layer 2 --n_head 2 "${SMALL[@]}")
# GPT_SERVE_STEPS: train the tiny run longer, to look at the screenshots (its attention has structure by 600);
# docs/explainer.md's pictures come from bench/explainer_latency.sh --screenshots.
"$GPT" train "${TINY[@]}" --eval_interval 10 --log_interval 2 --out_dir "$WORK/runs/tiny" --max_iters "${GPT_SERVE_STEPS:-40}" > "$WORK/train.log" 2>&1 || { echo "FAIL: training"; cat "$WORK/train.log"; exit 1; }
# Many layers and heads, small widths: at 250 tokens every head's map exceeds the 8 MiB response bound.
WIDE=(--n_layer 6 --n_head 8 --n_embd 32 --block_size 256 --batch_size 2 --eval_iters 1 --sample_tokens 0 --threads 1
      --report_every 0 --data "$WORK/corpus.txt" --eval_interval 2 --log_interval 1 --max_iters 2)
"$GPT" train "${WIDE[@]}" --out_dir "$WORK/runs/wide" > "$WORK/train.log" 2>&1 || { echo "FAIL: training the wide run"; cat "$WORK/train.log"; exit 1; }
# model = bert (full attention maps, the bars at a position, [MASK]) and model = transformer (the source and
# target view: encoder, decoder and cross-attention maps), tiny.
"$GPT" train "${TINY[@]}" --model bert --eval_interval 5 --log_interval 5 --out_dir "$WORK/runs/tiny_bert" --max_iters 5 > "$WORK/train.log" 2>&1 || { echo "FAIL: training the bert run"; cat "$WORK/train.log"; exit 1; }
"$PYTHON" "$HERE/../../scripts/toy_tasks.py" --out "$WORK/toy" --tasks reverse --train 100 --valid 10 --test 10 > /dev/null || { echo "FAIL: toy_tasks.py"; exit 1; }
"$GPT" train --model transformer --n_encoder_layer 2 --n_decoder_layer 1 --n_head 2 --n_embd 16 --block_size 16 --batch_size 4 \
    --max_iters 10 --eval_interval 5 --eval_iters 1 --log_interval 5 --threads 1 --data "$WORK/toy/reverse/train.tsv" \
    --out_dir "$WORK/runs/translate" > "$WORK/train.log" 2>&1 || { echo "FAIL: training the transformer run"; cat "$WORK/train.log"; exit 1; }
VARIANT=(--n_layer 3 --n_head 4 --n_kv_head 2 --pos_encoding rope --norm rmsnorm --mlp swiglu)
"$GPT" train "${SMALL[@]}" "${VARIANT[@]}" --eval_interval 5 --log_interval 5 --out_dir "$WORK/runs/variant" --max_iters 5 > "$WORK/train.log" 2>&1 || { echo "FAIL: training the variant"; cat "$WORK/train.log"; exit 1; }

"$GPT" serve "$WORK/runs" --port 0 --threads 1 > "$WORK/serve.log" 2> "$WORK/serve.err" &
server_pid=$!
url=
for _ in $(seq 1 100); do
    url=$(grep -o 'http://[0-9.]*:[0-9]*/' "$WORK/serve.log" 2>/dev/null | head -n 1)
    [ -n "$url" ] && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
done
[ -n "$url" ] || { echo "FAIL: gpt serve printed no URL"; cat "$WORK/serve.log" "$WORK/serve.err"; exit 1; }

# The live run: started by the driver once the page is open, so the page sees it appear and grow.
# --lr_schedule constant and many steps: it must still be running while the page polls (1 s).
LIVE=("$GPT" train "${TINY[@]}" --log_interval 5 --eval_interval 100000 --out_dir "$WORK/runs/live" --max_iters 100000)
SHOTS="$BUILD_DIR/serve_screenshots"
mkdir -p "$SHOTS"
NODE_PATH="$PW_DIR" node "$HERE/serve_browser.js" "$url" "$CHROMIUM" "$SHOTS" "$PW_DIR/package" "${LIVE[@]}"
rc=$?
grep -E 'AddressSanitizer|runtime error:|terminate called' "$WORK/serve.err" && { echo "FAIL: sanitizer report from the server"; rc=1; }
exit $rc
