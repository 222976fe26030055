#!/usr/bin/env bash
# Data-parallel throughput at bench's `small` shape (6 layers, 6 heads, C 384, T 256, dropout 0.2) and
# 16 sequences per step: 1 process × THREADS threads (batch 8, grad_accum 2) against RANKS ranks ×
# THREADS/RANKS threads (batch 16/RANKS), with and without --zero1. Prints, per run, the median tokens/s
# and gradient-sum time per step (steps 2.., the first warms the buffers), and rank 0's peak memory.
# Run it alone on the machine:  flock /tmp/bench.lock bench/mpi_bench.sh build corpus.txt [STEPS] [THREADS] [RANKS]
set -euo pipefail
build=$(cd "${1:?usage: bench/mpi_bench.sh BUILD_DIR CORPUS [STEPS] [THREADS] [RANKS]}" && pwd)
corpus=$(realpath "${2:?corpus text file}")
steps=${3:-6}
threads=${4:-2}
ranks=${5:-2}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
shape=(--n_layer 6 --n_head 6 --n_embd 384 --block_size 256 --dropout 0.2 --data "$corpus" --tokenizer char
       --invalid_utf8 replace --max_iters "$steps" --log_interval 1 --eval_interval 100000 --eval_iters 1
       --sample_tokens 0 --lr_schedule constant --warmup_iters 0)
summary() {  # RUN_DIR LOG LABEL
    /usr/bin/python3 - "$1/metrics.jsonl" "$2" "$3" <<'PY'
import json, re, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1])][1:]
tps = statistics.median(r["tokens_per_s"] for r in rows)
comm = statistics.median(r.get("comm_s", 0.0) for r in rows) * 1000
log = open(sys.argv[2]).read()
mem = re.search(r"peak resident memory ([0-9.]+) (MiB|KiB)", log)  # multi-rank: in the steps (before saving)
mib = float(mem.group(1)) / (1024 if mem.group(2) == "KiB" else 1) if mem else float("nan")
print(f"| {sys.argv[3]} | {tps:,.0f} | {4096 / tps * 1000:,.0f} | {comm:.1f} | {mib:.0f} |")
PY
}
echo "| run | tokens/s | ms/step | gradient sum ms/step | rank 0 peak RSS MiB |"
echo "|---|---|---|---|---|"
/usr/bin/time -f "peak resident memory %M KiB" "$build/gpt" train "${shape[@]}" --out_dir one --threads "$threads" \
    --batch_size 8 --grad_accum 2 > one.log 2>&1
summary one one.log "1 process × $threads threads (B 8, grad_accum 2)"
per_rank=$((threads / ranks > 0 ? threads / ranks : 1))
for zero in false true; do
    mpirun -np "$ranks" --oversubscribe --bind-to none "$build/gpt" train "${shape[@]}" --out_dir "dp_$zero" \
        --threads "$per_rank" --batch_size $((16 / ranks)) --zero1 "$zero" > "dp_$zero.log" 2>&1
    grep -q "peak resident" "dp_$zero.log" || { tail -n 5 "dp_$zero.log"; exit 1; }
    summary "dp_$zero" "dp_$zero.log" "$ranks ranks × $per_rank threads (B $((16 / ranks))), zero1 $zero"
done
grep -o "AdamW moments [^,]*" dp_false.log dp_true.log
grep -o "[0-9]* parameters" one.log | head -n 1
