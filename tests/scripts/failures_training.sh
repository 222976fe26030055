#!/usr/bin/env bash
# Failures during `gpt train`: a non-finite step, a save that cannot be written (full disk, folder not
# writable), kill -9 during a save, SIGINT/SIGTERM then resume, a second Ctrl-C.
source "$(dirname "$0")/failure_lib.bash" "$@"
cd "$WORK"
make_corpus tiny.txt
train() { "$GPT" train "${TINY[@]}" --data tiny.txt "$@"; }
steps_of() { grep -o '"step": [0-9]*' "$1" | awk '{print $2}' | tr '\n' ' '; }
losses_of() { grep -o '"train_loss": [^,]*' "$1" | awk '{print $2}' | tr '\n' ' '; }
checksum() { md5sum "$1" 2>/dev/null | cut -d' ' -f1 | grep . || echo "missing $1"; }

# --- NaN/Inf: lr 1e30 blows the weights up after one step --------------------------------------------
train --out_dir nan --max_iters 3 > /dev/null 2>&1 || fail "training 3 steps"
before=$(checksum nan/ckpt.h5)
expect_error "non-finite loss stops the run" 4 "error: step 5: the loss is" -- "$GPT" train --resume nan --max_iters 8 --lr 1e30
grep -qF "(parameter " "$WORK/stderr" && grep -qF "last good checkpoint is kept in nan/ckpt.h5" "$WORK/stderr" ||
    fail "non-finite message lacks the parameter or the checkpoint"
checks=$((checks + 1))
[ "$(checksum nan/ckpt.h5)" = "$before" ] && pass "last good checkpoint kept (unchanged)" || fail "ckpt.h5 changed after the non-finite stop"
checks=$((checks + 1))
if "$GPT" train --resume nan --max_iters 8 --lr 1e30 --skip_nonfinite true > /dev/null 2> skip.err &&
   [ "$(grep -c 'step skipped (--skip_nonfinite)' skip.err)" -ge 1 ]; then
    pass "--skip_nonfinite skips $(grep -c 'step skipped' skip.err) steps and finishes (rc 0)"
else fail "--skip_nonfinite: $(tail -n 1 skip.err)"; fi

# --- a save that cannot be written: the previous checkpoint stays, the error says so -------------------
# A checkpoint (~1 MB with n_embd 64, 2 layers) larger than the file-size limit; the token files are not.
big=(--n_layer 2 --n_head 2 --n_embd 64 --block_size 8 --batch_size 2 --eval_iters 2 --eval_interval 1000
     --log_interval 1 --sample_tokens 0 --threads 1 --lr_schedule constant --warmup_iters 0 --ckpt_interval 1
     --data tiny.txt)
"$GPT" train "${big[@]}" --out_dir full --max_iters 2 > /dev/null 2>&1 || fail "training the 1 MB model"
before=$(checksum full/ckpt.h5)
# RLIMIT_FSIZE stands in for a full disk: write(2) fails with EFBIG once a file would pass 256 KiB.
expect_error "disk full during save" 1 "save failed, the previous file at full/ckpt.h5 is untouched" -- \
    bash -c 'trap "" XFSZ; ulimit -f 256; exec "$@"' _ "$GPT" train --resume full --max_iters 4
grep -qF "File too large" "$WORK/stderr" || fail "disk-full message lacks the cause"
checks=$((checks + 1))
if [ "$(checksum full/ckpt.h5)" = "$before" ] && [ ! -e full/ckpt.h5.tmp ]; then pass "previous ckpt.h5 intact, no .tmp left"
else fail "ckpt.h5 changed or ckpt.h5.tmp left after the failed save"; fi
# A really full filesystem: a 2 MiB tmpfs (room for one 1.3 MB checkpoint, not two) in a private mount namespace (root only; skipped elsewhere).
if [ "$(id -u)" -eq 0 ] && unshare -m true 2>/dev/null; then
    mkdir -p tmpfs_run
    expect_error "tmpfs full during save" 1 "is untouched" -- unshare -m bash -c '
        mount -t tmpfs -o size=2m tmpfs tmpfs_run || exit 3
        cp full/ckpt.h5 full/*.bin tmpfs_run/ && exec "$@"' _ "$GPT" train --resume tmpfs_run --max_iters 4
    grep -qF "No space left on device" "$WORK/stderr" || fail "tmpfs message lacks ENOSPC"
else
    echo "skipped: tmpfs test (needs root and unshare -m)"
fi
# A folder that is not writable: as root, run as nobody (root ignores permission bits); else chmod.
cp -r full readonly && chmod 755 "$WORK" && chmod -R a+rX readonly && chmod a-w readonly
before=$(checksum readonly/ckpt.h5)
as_user=()
[ "$(id -u)" -eq 0 ] && as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups)
if "${as_user[@]}" test -w readonly; then
    echo "skipped: cannot make a folder unwritable here"
else
    # refused before the first step (config.toml is written first), not after an hour at the first save
    expect_error "folder not writable" 1 "readonly: cannot write into the run folder (creating its lock file: Permission denied); is the run folder writable?" -- "${as_user[@]}" "$GPT" train --resume readonly --max_iters 4
    checks=$((checks + 1))
    [ "$(checksum readonly/ckpt.h5)" = "$before" ] && pass "read-only folder: ckpt.h5 intact" || fail "read-only folder: ckpt.h5 changed"
fi
chmod u+w readonly

# --- kill -9 in the middle of a save never leaves a corrupt ckpt.h5 -----------------------------------
"$GPT" train "${big[@]}" --out_dir killed --max_iters 2 > /dev/null 2>&1
for round in 1 2 3; do
    "$GPT" train --resume killed --max_iters 100000 > /dev/null 2>&1 &
    pid=$!
    for _ in $(seq 1 200000); do [ -e killed/ckpt.h5.tmp ] && break; done  # a save is under way
    kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
    checks=$((checks + 1))
    if "$GPT" sample --checkpoint killed --max_new_tokens 4 > /dev/null 2> kill.err; then
        pass "kill -9 round $round (tmp seen: $([ -e killed/ckpt.h5.tmp ] && echo yes || echo no)): ckpt.h5 loads"
    else fail "kill -9 round $round: ckpt.h5 does not load: $(tail -n 1 kill.err)"; fi
done

# --- SIGINT / SIGTERM: checkpoint, documented exit code, exact resume with no step lost or repeated ----
# interrupt SIGNAL DIR: starts a long run, signals it after a few logged steps, returns its exit code.
interrupt() {
    "$GPT" train "${TINY[@]}" --data tiny.txt --out_dir "$2" --max_iters 100000 > /dev/null 2> "$2.err" &
    local pid=$! lines=0
    for _ in $(seq 1 600); do
        lines=$(cat "$2/metrics.jsonl" 2>/dev/null | wc -l)
        [ "$lines" -ge 15 ] && break
        sleep 0.05
    done
    kill -"$1" "$pid"
    wait "$pid"
}
for signal in INT TERM; do
    dir=run_$signal
    interrupt "$signal" "$dir"
    rc=$?
    want=$([ "$signal" = INT ] && echo 130 || echo 143)
    checks=$((checks + 1))
    stopped=$(grep -o 'after step [0-9]*' "$dir.err" | awk '{print $3}')
    if [ "$rc" -eq "$want" ] && [ -n "$stopped" ] && grep -qF "checkpoint saved to $dir/ckpt.h5" "$dir.err"; then
        pass "SIG$signal: exit $rc after step $stopped, checkpoint saved"
    else fail "SIG$signal: exit $rc (want $want): $(tail -n 2 "$dir.err" | tr '\n' ' ')"; continue; fi
    # resume to stopped + 5 steps, and compare with one uninterrupted run of as many steps
    total=$((stopped + 5))
    "$GPT" train --resume "$dir" --max_iters "$total" > /dev/null 2>&1 || fail "SIG$signal: resume failed"
    train --out_dir "ref_$signal" --max_iters "$total" > /dev/null 2>&1
    checks=$((checks + 1))
    want_steps=$(seq 1 "$total" | tr '\n' ' ')
    if [ "$(steps_of "$dir/metrics.jsonl")" = "$want_steps" ] &&
       [ "$(losses_of "$dir/metrics.jsonl")" = "$(losses_of "ref_$signal/metrics.jsonl")" ]; then
        pass "SIG$signal: metrics.jsonl has steps 1..$total once each, losses equal to an uninterrupted run"
    else
        fail "SIG$signal: steps after resume: $(steps_of "$dir/metrics.jsonl" | head -c 200)"
    fi
done

# --- --skip_nonfinite: a stop request is honoured while steps are skipped; a long run of skips is an error
# A model whose steps take tens of milliseconds, so Ctrl-C lands while it is skipping.
slow=(--n_layer 2 --n_head 4 --n_embd 256 --block_size 64 --batch_size 8 --eval_iters 1 --eval_interval 1000
      --log_interval 1 --sample_tokens 0 --threads 1 --report_every 0 --data tiny.txt)
"$GPT" train "${slow[@]}" --out_dir skipsig --max_iters 2 > /dev/null 2>&1 || fail "training skipsig"
"$GPT" train --resume skipsig --max_iters 100000 --lr 1e30 --skip_nonfinite true > /dev/null 2> skipsig.err &
pid=$!
for _ in $(seq 1 200); do grep -q 'step skipped' skipsig.err 2>/dev/null && break; sleep 0.05; done
kill -INT "$pid"; wait "$pid"; rc=$?
checks=$((checks + 1))
skipped=$(grep -c 'step skipped' skipsig.err)
if [ "$rc" = 130 ] && [ "$skipped" -lt 100 ] && grep -q 'stopped by signal 2' skipsig.err; then
    pass "SIGINT while skipping: checkpoint and exit 130 after $skipped skipped steps"
else fail "SIGINT while skipping: rc $rc after $skipped skipped steps: $(tail -n 1 skipsig.err)"; fi
expect_error "100 skipped steps in a row" 4 "100 steps in a row had non-finite gradients" -- \
    "$GPT" train "${TINY[@]}" --data tiny.txt --out_dir skipall --max_iters 100000 --lr 1e30 --skip_nonfinite true

# --- optimizer_in_backward: the same run bit for bit without a full set of gradients; refused where it cannot be exact
train --out_dir plain --max_iters 4 --grad_clip 0 > plain.log 2>&1 || fail "grad_clip 0: $(tail -n 1 plain.log)"
train --out_dir fused --max_iters 4 --grad_clip 0 --optimizer_in_backward true > fused.log 2>&1 ||
    fail "optimizer_in_backward: $(tail -n 1 fused.log)"
checks=$((checks + 1))
if [ -n "$(losses_of plain/metrics.jsonl)" ] && [ "$(losses_of plain/metrics.jsonl)" = "$(losses_of fused/metrics.jsonl)" ] &&
   h5diff -q plain/ckpt.h5 fused/ckpt.h5 /model > /dev/null 2>&1 && h5diff -q plain/ckpt.h5 fused/ckpt.h5 /optimizer > /dev/null 2>&1; then
    pass "optimizer_in_backward: weights and AdamW state identical to the plain step after 4 steps"
else fail "optimizer_in_backward differs: $(losses_of plain/metrics.jsonl) vs $(losses_of fused/metrics.jsonl)"; fi
expect_error "optimizer_in_backward with clipping" 1 "optimizer_in_backward needs grad_clip 0" -- \
    "$GPT" train "${TINY[@]}" --data tiny.txt --out_dir refused --max_iters 2 --optimizer_in_backward true
expect_error "optimizer_in_backward with grad_accum" 1 "optimizer_in_backward needs grad_accum 1" -- \
    "$GPT" train "${TINY[@]}" --data tiny.txt --out_dir refused --max_iters 2 --optimizer_in_backward true --grad_clip 0 --grad_accum 2
expect_error "optimizer_in_backward: a non-finite loss stops the run before any update" 4 "error: step 6: the loss is" -- \
    "$GPT" train --resume fused --max_iters 8 --lr 1e30

# --- a second Ctrl-C aborts at once (no checkpoint): steps of ~1 s, the second signal 0.2 s after the first
heavy=(--n_layer 4 --n_head 4 --n_embd 256 --block_size 128 --batch_size 32 --eval_iters 2 --sample_tokens 0
       --threads 1 --data tiny.txt --max_iters 1000 --out_dir twice)
"$GPT" train "${heavy[@]}" > /dev/null 2> twice.err &
pid=$!
for _ in $(seq 1 600); do grep -q '^gpt train:' twice.err 2>/dev/null && break; sleep 0.05; done
sleep 0.3
kill -INT "$pid"; sleep 0.2
start=$(date +%s%N); kill -INT "$pid"; wait "$pid"; rc=$?; end=$(date +%s%N)
checks=$((checks + 1))
ms=$(( (end - start) / 1000000 ))
if [ "$rc" -eq 130 ] && grep -qF "second interrupt: aborting without a checkpoint" twice.err && [ "$ms" -lt 1000 ]; then
    pass "second Ctrl-C: exit 130 within $ms ms, no checkpoint$([ -e twice/ckpt.h5 ] && echo ' (but one exists!)')"
    [ -e twice/ckpt.h5 ] && fail "second Ctrl-C wrote a checkpoint"
elif grep -q 'stopped by signal 2 after step' twice.err; then
    echo "skipped: the first step finished before the second signal (machine too fast for this timing)"
else fail "second Ctrl-C: rc $rc after $ms ms: $(tail -n 2 twice.err | tr '\n' ' ')"; fi
finish
