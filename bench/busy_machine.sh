#!/usr/bin/env bash
# Training and sampling speed with and without a competing CPU-bound process (a shell busy loop, started
# and stopped here) on one core, at the default thread count, 1 and 2 threads. Prints a table.
#   bash bench/busy_machine.sh [BUILD_DIR (default build)] [--data FILE] [--iters N] [--reps R]
# The model is configs/default.toml's (the baby shape). Training speed is the last log window's tokens/s
# (steps iters/2 .. iters, warm-up excluded), sampling the tokens/s that gpt sample reports for 300
# tokens. Run it alone on the machine (under flock /tmp/bench.lock where others benchmark too).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="$here/../build"
if (($#)) && [[ "$1" != --* ]]; then build=$1; shift; fi
data="$here/../datasets/tinyshakespeare.txt"
[ -f "$data" ] || data=/usr/share/games/fortunes
iters=40
reps=1
while (($#)); do
    case "$1" in
        --data) data=$2; shift 2 ;;
        --iters) iters=$2; shift 2 ;;
        --reps) reps=$2; shift 2 ;;
        *) echo "busy_machine: error: unknown argument '$1' (use BUILD_DIR, --data FILE, --iters N, --reps R)" >&2; exit 2 ;;
    esac
done
gpt="$build/gpt"
[ -x "$gpt" ] || { echo "busy_machine: error: $gpt is not built (cmake --build $build --target gpt)" >&2; exit 1; }
work=$(mktemp -d)
competitor=""
cleanup() {
    [ -n "$competitor" ] && kill "$competitor" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

start_competitor() { sh -c 'while :; do :; done' & competitor=$!; }
stop_competitor() { kill "$competitor"; wait "$competitor" 2>/dev/null || true; competitor=""; }

train_speed() {  # threads (0 = default): tokens/s of the last log window
    local threads=$1 out="$work/run"
    local args=(--config "$here/../configs/default.toml" --data "$data" --out_dir "$out" --overwrite
                --max_iters "$iters" --log_interval $((iters / 2)) --eval_interval 100000 --eval_iters 1
                --sample_tokens 0 --eval_sample_tokens 0 --warmup_iters 0)
    [ "$threads" = 0 ] || args+=(--threads "$threads")
    "$gpt" train "${args[@]}" > "$work/train.log" 2>&1 || { cat "$work/train.log" >&2; exit 1; }
    printf '%.0f\n' "$(tail -1 "$out/metrics.jsonl" | sed -n 's/.*"tokens_per_s": *\([0-9.e+]*\).*/\1/p')"
}

sample_speed() {  # threads (0 = default): tokens/s of gpt sample
    local threads=$1
    local args=(--checkpoint "$work/run" --prompt "The " --max_new_tokens 300 --seed 1)
    [ "$threads" = 0 ] || args+=(--threads "$threads")
    "$gpt" sample "${args[@]}" 2>&1 >/dev/null | sed -n 's/.*(\([0-9.]*\) tokens\/s).*/\1/p'
}

median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; $gpt; data $data;" \
     "baby shape (configs/default.toml), $iters steps; median of $reps"
echo "# env: OMP_WAIT_POLICY=${OMP_WAIT_POLICY-unset} GOMP_SPINCOUNT=${GOMP_SPINCOUNT-unset} OMP_NUM_THREADS=${OMP_NUM_THREADS-unset}"
train_speed 1 > /dev/null  # a checkpoint for sampling, and a warm file cache
printf '| competitor | threads | train tokens/s | sample tokens/s |\n|---|---|---|---|\n'
for busy in no yes; do
    [ "$busy" = yes ] && start_competitor
    for threads in 0 1 2; do
        t=() s=()
        for ((r = 0; r < reps; ++r)); do
            t+=("$(train_speed "$threads")")
            s+=("$(sample_speed "$threads")")
        done
        printf '| %s | %s | %s | %s |\n' "$busy" "$([ "$threads" = 0 ] && echo "default" || echo "$threads")" \
               "$(echo "${t[*]}" | median)" "$(echo "${s[*]}" | median)"
    done
    [ "$busy" = yes ] && stop_competitor
done
