#!/usr/bin/env bash
# gpt serve's forward view timed in real Chromium (bench/explainer_latency.js): typing a character, the
# temperature slider, "next token" and "stream", on two models, with each API answer's size. Prints a
# markdown table; with --before OLD_GPT also the same page interactions against another build's server
# (the same checkpoints), side by side. --screenshots DIR: afterwards, docs/explainer.md's pictures of
# every view at 1280 and 700 px (bench/explainer_screenshots.js, the default model); --no-timing: only those.
#   bash bench/explainer_latency.sh [BUILD_DIR (default build)] [--before OLD_GPT] [--data PATH]
#                                   [--repeats N (default 7)] [--iters N (default 500)] [--work DIR]
#                                   [--screenshots DIR] [--no-timing]
# The models, trained once into WORK/runs (default BUILD_DIR/explainer_bench) and reused:
#   default    gpt train's defaults (4 layers × 4 heads, C 128, block 64, char tokenizer), ITERS steps on
#              --data (default: gpt train's default corpus), validation every 50 steps
#   gpt2_124m  GPT-2 124M's shape (12 layers × 12 heads, C 768, block 1024) with the vocabulary padded to
#              50304 (--vocab_pad, as nanoGPT pads GPT-2's 50257), one training step: randomly initialised,
#              since no GPT-2 weights are available offline. The logits and every matrix the page draws
#              have GPT-2 124M's sizes; the words it predicts are noise.
# Needs chromium and node/npm (scripts/setup.sh --tests); playwright-core is fetched once with `npm pack`
# into BUILD_DIR/node_cache, as tests/scripts/serve_browser.sh does. Run it on a quiet machine: it is a
# timing. The load average is printed beside the table.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="$here/../build"
if (($#)) && [[ "$1" != --* ]]; then build=$1; shift; fi
build=$(cd "$build" && pwd)
before="" data="" repeats=7 iters=500 work="$build/explainer_bench" shots="" timing=1
while (($#)); do
    case "$1" in
        --before) before=$2; shift 2 ;;
        --data) data=$2; shift 2 ;;
        --repeats) repeats=$2; shift 2 ;;
        --iters) iters=$2; shift 2 ;;
        --work) work=$2; shift 2 ;;
        --screenshots) shots=$2; shift 2 ;;
        --no-timing) timing=0; shift ;;
        *) echo "explainer_latency: error: unknown argument '$1' (use BUILD_DIR, --before OLD_GPT, --data PATH, --repeats N, --iters N, --work DIR, --screenshots DIR, --no-timing)" >&2; exit 2 ;;
    esac
done
gpt="$build/gpt"
[ -x "$gpt" ] || { echo "explainer_latency: error: $gpt is not built (cmake --build $build --target gpt)" >&2; exit 1; }
[ -z "$before" ] || [ -x "$before" ] || { echo "explainer_latency: error: --before $before is not an executable" >&2; exit 1; }
chromium=${GPT_CHROMIUM:-/usr/bin/chromium}
[ -x "$chromium" ] || { echo "explainer_latency: error: no $chromium (scripts/setup.sh --tests installs chromium; or set GPT_CHROMIUM)" >&2; exit 1; }
command -v node > /dev/null && command -v npm > /dev/null || { echo "explainer_latency: error: node/npm missing" >&2; exit 1; }
pw_version=1.65.1
pw_dir="$build/node_cache/playwright-core-$pw_version"
if [ ! -f "$pw_dir/package/index.js" ]; then
    mkdir -p "$pw_dir"
    (cd "$pw_dir" && npm pack --silent "playwright-core@$pw_version" > npm.log 2>&1 && tar xzf playwright-core-*.tgz) ||
        { echo "explainer_latency: error: npm pack playwright-core@$pw_version failed: $(tail -3 "$pw_dir/npm.log")" >&2; rm -rf "$pw_dir"; exit 1; }
fi

# ---- the checkpoints (kept between runs) ----
mkdir -p "$work/runs"
data_args=()
[ -n "$data" ] && data_args=(--data "$data")
if [ ! -f "$work/runs/default/ckpt.h5" ]; then
    echo "training the default model ($iters steps) ..." >&2
    "$gpt" train "${data_args[@]}" --max_iters "$iters" --eval_interval 50 --eval_iters 20 --out_dir "$work/runs/default" --overwrite true > "$work/train_default.log" 2>&1 ||
        { echo "explainer_latency: error: training the default model failed:" >&2; tail -5 "$work/train_default.log" >&2; exit 1; }
fi
if [ ! -f "$work/runs/gpt2_124m/ckpt.h5" ]; then
    echo "writing the GPT-2 124M-shaped model (one step) ..." >&2
    "$gpt" train "${data_args[@]}" --n_layer 12 --n_head 12 --n_embd 768 --block_size 1024 --vocab_pad 50304 \
        --max_iters 1 --batch_size 1 --eval_iters 1 --eval_interval 1 --warmup_iters 0 --sample_tokens 0 --eval_sample_tokens 0 \
        --out_dir "$work/runs/gpt2_124m" --overwrite true > "$work/train_gpt2.log" 2>&1 ||
        { echo "explainer_latency: error: writing the GPT-2-shaped model failed:" >&2; tail -5 "$work/train_gpt2.log" >&2; exit 1; }
fi

# ---- one server at a time ----
server_pid=""
trap '[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; true' EXIT
start_server() {  # start_server GPT LABEL: sets url
    "$1" serve "$work/runs" --port 0 > "$work/serve_$2.log" 2> "$work/serve_$2.err" &
    server_pid=$!
    url=""
    for _ in $(seq 1 200); do
        url=$(grep -o 'http://[0-9.]*:[0-9]*/' "$work/serve_$2.log" 2>/dev/null | head -n 1) || true
        [ -n "$url" ] && break
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.1
    done
    [ -n "$url" ] || { echo "explainer_latency: error: $1 serve printed no URL:" >&2; cat "$work/serve_$2.log" "$work/serve_$2.err" >&2; exit 1; }
}
stop_server() {
    kill "$server_pid"; wait "$server_pid" 2>/dev/null || true
    server_pid=""
}
measure() {  # measure GPT LABEL OUT.json
    start_server "$1" "$2"
    node "$here/explainer_latency.js" measure "$url" "$chromium" "$pw_dir/package" "$3" "$2" "$repeats" default gpt2_124m
    stop_server
}
if ((timing)); then
    echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
    if [ -n "$before" ]; then
        measure "$before" before "$work/before.json"
    fi
    measure "$gpt" after "$work/after.json"
    echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)  ($(nproc) cores)"
    if [ -n "$before" ]; then
        node "$here/explainer_latency.js" table "$work/after.json" "$work/before.json"
    else
        node "$here/explainer_latency.js" table "$work/after.json"
    fi
fi
if [ -n "$shots" ]; then
    mkdir -p "$shots"
    start_server "$gpt" screenshots
    node "$here/explainer_screenshots.js" "$url" "$chromium" "$pw_dir/package" "$(cd "$shots" && pwd)" default
    stop_server
fi
