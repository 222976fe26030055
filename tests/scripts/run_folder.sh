#!/usr/bin/env bash
# Run-folder safety (docs/reliability.md, "Run folders"): every case asserts the exit code, the one
# error line naming the culprit, and that nothing in the folder was lost (ckpt.h5 checksum, metrics
# line count before and after).
source "$(dirname "$0")/failure_lib.bash" "$@"
cd "$WORK"
make_corpus tiny.txt
train() { "$GPT" train "${TINY[@]}" --data tiny.txt --report_every 0 "$@"; }
# TINY without the options a case sets itself (CLI11 refuses an option given twice).
other=(--n_head 2 --n_embd 16 --block_size 8 --batch_size 2 --eval_iters 2 --eval_interval 1000 --sample_tokens 0
       --threads 1 --data tiny.txt --report_every 0)
checksum() { md5sum "$1" 2>/dev/null | cut -d' ' -f1 | grep . || echo "missing $1"; }
lines() { wc -l < "$1" 2>/dev/null || echo 0; }
steps_of() { grep -o '"step": [0-9]*' "$1" | awk '{print $2}' | tr '\n' ' '; }
unchanged() {  # NAME DIR CKPT_SUM METRICS_LINES
    checks=$((checks + 1))
    if [ "$(checksum "$2/ckpt.h5")" = "$3" ] && [ "$(lines "$2/metrics.jsonl")" = "$4" ]; then pass "$1: ckpt.h5 and metrics.jsonl unchanged"
    else fail "$1: the run folder changed"; fi
}

# --- a new run into a folder that holds a run ---------------------------------------------------------
train --out_dir run --max_iters 40 --ckpt_interval 10 --keep_last 10 > /dev/null 2>&1 || fail "training 40 steps"
sum=$(checksum run/ckpt.h5); n=$(lines run/metrics.jsonl)
expect_error "new run into a used folder" 1 "--resume run, replace it with --overwrite" -- \
    "$GPT" train "${TINY[@]}" --data tiny.txt --out_dir run --max_iters 3
unchanged "refused new run" run "$sum" "$n"
# The same through a config file (the README's main job re-run): refused the same way.
printf '[train]\nout_dir = "run"\nmax_iters = 3\n' > again.toml
expect_error "new run from a config file into a used folder" 1 "already holds a run" -- \
    "$GPT" train "${TINY[@]}" --data tiny.txt --config again.toml
unchanged "refused config-file run" run "$sum" "$n"

# --- resuming from an older periodic copy ------------------------------------------------------------
expect_error "resume from an older copy" 1 "is at step 10 but run/ckpt.h5 is at step 40" -- \
    "$GPT" train --resume run/ckpt_00000010.h5 --max_iters 50
unchanged "refused branch" run "$sum" "$n"
cp -r run keep
checks=$((checks + 1))
if "$GPT" train --resume keep/ckpt_00000010.h5 --max_iters 15 --overwrite > /dev/null 2> branch.err; then
    steps=$(steps_of keep/metrics.jsonl)
    copies=$(cd keep && ls ckpt_0*.h5 | tr '\n' ' ')
    if [ "$steps" = "$(seq -s ' ' 1 15) " ] && [ "$copies" = "ckpt_00000010.h5 ckpt_00000015.h5 " ]; then
        pass "--overwrite branches from step 10: history 1..15, newer copies removed"
    else fail "branch: steps '$steps', copies '$copies'"; fi
else fail "branch with --overwrite: $(tail -n 1 branch.err)"; fi

# --- --overwrite replaces a run -----------------------------------------------------------------------
cp -r run over
checks=$((checks + 1))
if train --out_dir over --max_iters 3 --overwrite > /dev/null 2>&1 && [ "$(steps_of over/metrics.jsonl)" = "1 2 3 " ] &&
   ! ls over/ckpt_0*.h5 > /dev/null 2>&1; then pass "--overwrite replaces the run"
else fail "--overwrite: steps '$(steps_of over/metrics.jsonl)'"; fi

# --- one process per folder: the lock, and a stale lock after kill -9 ---------------------------------
"$GPT" train "${other[@]}" --n_layer 1 --log_interval 100 --out_dir busy --max_iters 100000 > /dev/null 2>&1 &
pid=$!
for _ in $(seq 1 100); do [ -s busy/.lock ] && [ -e busy/metrics.jsonl ] && break; sleep 0.1; done
expect_error "second process on one folder" 1 "is in use by another gpt train (pid $pid)" -- \
    "$GPT" train "${other[@]}" --n_layer 1 --out_dir busy --max_iters 10 --overwrite
kill -9 "$pid"; wait "$pid" 2>/dev/null
checks=$((checks + 1))
if train --out_dir busy --max_iters 2 --overwrite > /dev/null 2>&1; then pass "a dead process's lock does not block"
else fail "stale lock blocked a new run"; fi

# --- a fine-tuning run resumes; config.toml records the model trained ----------------------------------
"$GPT" train "${other[@]}" --n_layer 2 --out_dir base --max_iters 4 > /dev/null 2>&1 || fail "base run"
checks=$((checks + 1))
if "$GPT" train --init_from base/ckpt.h5 --data tiny.txt --out_dir ft --max_iters 3 --sample_tokens 0 \
       --eval_iters 1 --report_every 0 > /dev/null 2>&1 &&
   "$GPT" train --resume ft --max_iters 6 > /dev/null 2> ft.err && grep -q '^n_layer = 2$' ft/config.toml &&
   [ "$(steps_of ft/metrics.jsonl)" = "3 6 " ]; then pass "fine-tuning run resumed; config.toml says n_layer = 2"
else fail "fine-tuning resume: $(tail -n 1 ft.err)"; fi
expect_error "init_from with a conflicting shape option" 1 "init_from: option n_layer = 6 differs from base/ckpt.h5's 2" -- \
    "$GPT" train --init_from base/ckpt.h5 --data tiny.txt --out_dir ft2 --n_layer 6 --max_iters 1
# A shorter block_size keeps the checkpoint's first positions (nanoGPT's crop_block_size); a longer one is refused.
checks=$((checks + 1))
if "$GPT" train --init_from base/ckpt.h5 --data tiny.txt --out_dir crop --block_size 5 --max_iters 1 --lr 1e-30 --min_lr 0 \
       --sample_tokens 0 --eval_iters 1 --report_every 0 > /dev/null 2> crop.err && grep -q '^block_size = 5$' crop/config.toml &&
   "$PYTHON" -c "
import h5py, numpy as np, sys
a = h5py.File('base/ckpt.h5')['model/wpe.weight'][:]; b = h5py.File('crop/ckpt.h5')['model/wpe.weight'][:]
sys.exit(0 if b.shape == (5, a.shape[1]) and np.array_equal(a[:5], b) else 1)"; then pass "init_from --block_size 5 keeps the first 5 positions"
else fail "init_from crop: $(tail -n 1 crop.err)"; fi
expect_error "init_from with a longer block_size" 1 "init_from: option block_size = 9 differs from base/ckpt.h5's 8" -- \
    "$GPT" train --init_from base/ckpt.h5 --data tiny.txt --out_dir crop2 --block_size 9 --max_iters 1

# --- metrics.jsonl: appended only; the rewrite on resume is atomic; write errors are errors ---------------
train --out_dir hist --max_iters 6 --ckpt_interval 3 > /dev/null 2>&1 || fail "hist run"
checks=$((checks + 1))  # the evaluation's time is its own field, not part of tokens_per_s
if tail -n 1 hist/metrics.jsonl | grep -q '"val_loss": [0-9.e-]*, "eval_s": [0-9.e-]*' &&
   ! head -n 5 hist/metrics.jsonl | grep -q eval_s; then pass "eval_s on evaluation steps only"
else fail "eval_s: $(tail -n 1 hist/metrics.jsonl | cut -c1-120)"; fi
# The run that stopped logged past its last checkpoint (step 6 is saved; fake 7, 8 and a torn line).
printf '{"step": 7, "train_loss": 1}\n{"step": 8, "train_loss": 1}\n{"step": 9, "tra' >> hist/metrics.jsonl
checks=$((checks + 1))
if "$GPT" train --resume hist --max_iters 8 > /dev/null 2>&1 && [ "$(steps_of hist/metrics.jsonl)" = "1 2 3 4 5 6 7 8 " ] &&
   ! grep -q '"tra$' hist/metrics.jsonl && [ ! -e hist/metrics.jsonl.tmp ]; then pass "resume drops records past the checkpoint and a torn line"
else fail "metrics after resume: $(steps_of hist/metrics.jsonl)"; fi
n=$(lines hist/metrics.jsonl)
# A file-size limit just above the current history: the first append fails -> an error, not exit 0.
limit=$(( ($(stat -c %s hist/metrics.jsonl) + 600) / 512 ))
expect_error "metrics write error" 1 "metrics.jsonl: cannot write: File too large" -- \
    bash -c 'trap "" XFSZ; ulimit -f '"$limit"'; exec "$@"' _ "$GPT" train --resume hist --max_iters 100 --ckpt_interval 1000
checks=$((checks + 1))
[ "$(head -n "$n" hist/metrics.jsonl | steps_of /dev/stdin)" = "1 2 3 4 5 6 7 8 " ] && pass "history intact after the write error" ||
    fail "history damaged by the write error"

# --- a full disk while the token files are written leaves no temporary file -------------------------------
expect_error "full disk while writing train.bin" 1 "train.bin.tmp: write failed" -- \
    bash -c 'trap "" XFSZ; ulimit -f 2; exec "$@"' _ "$GPT" train "${TINY[@]}" --data tiny.txt --out_dir fulltok --max_iters 1
checks=$((checks + 1))
if ls fulltok/*.tmp > /dev/null 2>&1; then fail "a temporary file was left: $(ls fulltok)"; else pass "no .tmp left after the failed write"; fi

finish
