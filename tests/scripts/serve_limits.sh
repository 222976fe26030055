#!/usr/bin/env bash
# gpt serve under hostile and real clients (issues 27 and 28), loopback only, bounded in time and count,
# stops by itself: browser request headers (Accept-Encoding: br, gzip) get an uncompressed answer;
# chunked, undeclared and oversized bodies are cut at 64 KiB (413) with the server's memory unchanged;
# 16 clients that send their headers one byte at a time do not stop a normal request; an answer over
# the response limit is refused (413), "layers"/"heads" ask for less and "fit" gets what fits; deep JSON, sampling parameters
# out of range, a bad metrics.jsonl line, a run name with %00; the URL of an IPv6 address. The checks
# are in serve_limits_check.py (Python's standard library only); this script trains the runs and starts
# and stops the servers.
set -uo pipefail
BUILD_DIR=$(cd "${1:?usage: bash serve_limits.sh BUILD_DIR [PYTHON]}" && pwd)
PYTHON=${2:-/usr/bin/python3}
GPT="$BUILD_DIR/gpt"
HERE=$(cd "$(dirname "$0")" && pwd)
[ -x "$GPT" ] || { echo "FAIL: $GPT not built"; exit 1; }
source "$(dirname "$0")/serve_lib.bash"
serve_workdir serve_limits

COMMON=(--eval_iters 1 --eval_interval 10 --log_interval 1 --sample_tokens 0 --threads 1 --report_every 0 --data "$WORK/corpus.txt")
# a: tiny. big: block_size 256, so that every head's attention at a full prompt passes the 8 MB bound.
"$GPT" train "${COMMON[@]}" --n_layer 2 --n_head 2 --n_embd 16 --block_size 24 --batch_size 4 --max_iters 20 \
    --out_dir "$WORK/runs/a" > "$WORK/train_a.log" 2>&1 || { echo "FAIL: training run a"; cat "$WORK/train_a.log"; exit 1; }
"$GPT" train "${COMMON[@]}" --n_layer 4 --n_head 4 --n_embd 64 --block_size 256 --batch_size 1 --max_iters 1 \
    --out_dir "$WORK/runs/big" > "$WORK/train_big.log" 2>&1 || { echo "FAIL: training run big"; cat "$WORK/train_big.log"; exit 1; }

start_server() {  # start_server HOST: sets server_pid and url
    "$GPT" serve "$WORK/runs" --port 0 --threads 1 --host "$1" > "$WORK/serve.log" 2> "$WORK/serve.err" &
    server_pid=$!
    url=
    for _ in $(seq 1 100); do
        url=$(grep -o 'http://[^ ]*/' "$WORK/serve.log" 2>/dev/null | head -n 1)
        [ -n "$url" ] && break
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.1
    done
}
failures=0
start_server 127.0.0.1
[ -n "$url" ] || { echo "FAIL: gpt serve printed no URL"; cat "$WORK/serve.log" "$WORK/serve.err"; exit 1; }
echo "server at $url (pid $server_pid)"
timeout 300 "$PYTHON" "$HERE/serve_limits_check.py" "$url" "$WORK" "$server_pid" || failures=$((failures + 1))
kill -0 "$server_pid" 2>/dev/null || { echo "FAIL: the server died"; failures=$((failures + 1)); }
if [ "$(grep -c 'line skipped' "$WORK/serve.err")" -ne 1 ]; then
    echo "FAIL: the bad metrics line is reported once on stderr: $(grep -c 'line skipped' "$WORK/serve.err") times"; failures=$((failures + 1))
else
    echo "ok: the bad metrics line is reported once: $(grep 'line skipped' "$WORK/serve.err")"
fi
grep -E 'AddressSanitizer|runtime error:|terminate called|HDF5-DIAG' "$WORK/serve.err" && { echo "FAIL: diagnostics from the server"; failures=$((failures + 1)); }
kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null; server_pid=

# An IPv6 address is printed in brackets (skipped where this machine has no IPv6 loopback).
if [ -e /proc/net/if_inet6 ] && grep -q '^0\{31\}1 ' /proc/net/if_inet6; then
    start_server ::1
    case "$url" in
        "http://[::1]:"*) echo "ok: IPv6 URL in brackets: $url";;
        *) echo "FAIL: IPv6 URL: '$url' $(cat "$WORK/serve.err")"; failures=$((failures + 1));;
    esac
    kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null; server_pid=
else
    echo "skipped: no IPv6 loopback here (the bracketed URL is not checked)"
fi
[ "$failures" -eq 0 ] && echo "serve_limits: all passed"
[ "$failures" -eq 0 ]
