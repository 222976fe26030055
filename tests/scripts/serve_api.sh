#!/usr/bin/env bash
# gpt serve's JSON API against the real server on a free port (--port 0), over a tiny trained run:
# every endpoint's shapes, attention rows and probabilities summing to 1, the next-token probabilities
# equal to `gpt sample --show_probs`, the backpropagation view's gradients and one SGD step equal to
# PyTorch's on the same weights (tools/load_checkpoint.py), a bert run's full attention and predictions at
# a position (a [MASK] too) and a transformer run's encoder, decoder and cross-attention maps and decoder
# candidates equal PyTorch's (serve_seq2seq_reference.py), its greedy and beam translations equal
# `gpt translate`'s, the views a kind lacks answered 400, every bad request answered with its status
# code, a checkpoint replaced by `gpt train --resume` reloaded, a removed run folder answered with 404
# while the server lives on, and a port in use refused with one error line. The checks are in
# serve_api_check.py; this script trains the runs and starts and stops the servers.
set -uo pipefail
BUILD_DIR=$(cd "${1:?usage: bash serve_api.sh BUILD_DIR [PYTHON]}" && pwd)
PYTHON=${2:-/usr/bin/python3}
GPT="$BUILD_DIR/gpt"
HERE=$(cd "$(dirname "$0")" && pwd)
[ -x "$GPT" ] || { echo "FAIL: $GPT not built"; exit 1; }
if ! "$PYTHON" -c 'import torch, h5py' 2>/dev/null; then
    [ "${GPT_REQUIRE_TORCH:-0}" = 1 ] && { echo "FAIL: $PYTHON cannot import torch and h5py (GPT_REQUIRE_TORCH=1)"; exit 1; }
    echo "skipped: $PYTHON has no torch + h5py (scripts/setup.sh --tests installs python3-torch python3-h5py)"
    exit 77
fi
source "$(dirname "$0")/serve_lib.bash"
serve_workdir serve_api

# Two tiny runs (2 layers, 2 heads, learned positions): one to look at, one to remove while served.
TINY=(--n_layer 2 --n_head 2 --n_embd 16 --block_size 24 --batch_size 4 --eval_iters 2 --eval_interval 10
      --log_interval 5 --sample_tokens 0 --threads 1 --report_every 0 --data "$WORK/corpus.txt")
"$GPT" train "${TINY[@]}" --out_dir "$WORK/runs/a" --max_iters 20 > "$WORK/train_a.log" 2>&1 || { echo "FAIL: training run a"; cat "$WORK/train_a.log"; exit 1; }
"$GPT" train "${TINY[@]}" --out_dir "$WORK/runs/b" --max_iters 5 > "$WORK/train_b.log" 2>&1 || { echo "FAIL: training run b"; exit 1; }
# Multi-head latent attention with rotary positions: the forward view shows its latent, and has no wpe.
"$GPT" train "${TINY[@]}" --out_dir "$WORK/runs/m" --max_iters 5 --attention mla --kv_latent_dim 8 --pos_encoding rope \
    > "$WORK/train_m.log" 2>&1 || { echo "FAIL: training run m (mla)"; cat "$WORK/train_m.log"; exit 1; }
# model = bert (bidirectional, masked LM) and model = transformer (encoder–decoder) on scripts/toy_tasks.py's
# reversal task: the views of each kind, and 400s for the views a kind lacks.
"$GPT" train "${TINY[@]}" --out_dir "$WORK/runs/bert" --max_iters 5 --model bert > "$WORK/train_bert.log" 2>&1 ||
    { echo "FAIL: training run bert"; cat "$WORK/train_bert.log"; exit 1; }
"$PYTHON" "$HERE/../../scripts/toy_tasks.py" --out "$WORK/toy" --tasks reverse --train 100 --valid 10 --test 10 > /dev/null ||
    { echo "FAIL: toy_tasks.py"; exit 1; }
"$GPT" train --model transformer --n_encoder_layer 2 --n_decoder_layer 1 --n_head 2 --n_embd 16 --block_size 16 \
    --batch_size 4 --max_iters 10 --eval_interval 5 --eval_iters 1 --log_interval 5 --threads 1 \
    --data "$WORK/toy/reverse/train.tsv" --out_dir "$WORK/runs/t" > "$WORK/train_t.log" 2>&1 ||
    { echo "FAIL: training run t (transformer)"; cat "$WORK/train_t.log"; exit 1; }
# A symlink from the served folder to a run outside it: must not be served.
"$GPT" train "${TINY[@]}" --out_dir "$WORK/outside" --max_iters 5 > /dev/null 2>&1 || { echo "FAIL: training run outside"; exit 1; }
ln -s "$WORK/outside" "$WORK/runs/escape"

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
echo "server at $url"
port=${url##*:}; port=${port%/}

# A second server on the same port: one error line, non-zero exit, no hang.
timeout 20 "$GPT" serve "$WORK/runs" --port "$port" > /dev/null 2> "$WORK/busy.err"
rc=$?
failures=0
# Bad command lines: one error line, non-zero exit, nothing served.
for bad in "$WORK/no_such_folder" "$WORK/runs --port 70000" "$WORK/runs --host"; do
    # shellcheck disable=SC2086  # the options are meant to split
    timeout 20 "$GPT" serve $bad > /dev/null 2> "$WORK/bad.err"
    brc=$?
    if [ "$brc" -eq 0 ] || [ "$brc" -ge 124 ] || [ "$(grep -c '^error:' "$WORK/bad.err")" -ne 1 ]; then
        echo "FAIL: gpt serve $bad: rc $brc, stderr: $(cat "$WORK/bad.err")"; failures=$((failures + 1))
    else
        echo "ok: gpt serve $bad refused (rc $brc): $(cat "$WORK/bad.err")"
    fi
done
if [ "$rc" -eq 0 ] || [ "$rc" -ge 124 ] || [ "$(grep -c '^error:' "$WORK/busy.err")" -ne 1 ] || ! grep -q "in use" "$WORK/busy.err"; then
    echo "FAIL: port in use: rc $rc, stderr: $(cat "$WORK/busy.err")"; failures=$((failures + 1))
else
    echo "ok: port in use refused (rc $rc): $(cat "$WORK/busy.err")"
fi

"$PYTHON" "$HERE/serve_api_check.py" "$url" "$WORK" "$GPT" "$HERE/../../tools" || failures=$((failures + 1))
kill -0 "$server_pid" 2>/dev/null || { echo "FAIL: the server died"; failures=$((failures + 1)); }
grep -E 'AddressSanitizer|runtime error:|terminate called' "$WORK/serve.err" && { echo "FAIL: sanitizer report from the server"; failures=$((failures + 1)); }
[ "$failures" -eq 0 ] && echo "serve_api: all passed"
[ "$failures" -eq 0 ]
