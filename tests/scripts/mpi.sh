#!/usr/bin/env bash
# Data-parallel training under mpirun (dist/, train/train_step.h), 2 ranks on this machine:
#   - 2 ranks × batch B give the same losses, weights and AdamW moments, bit for bit, as 1 process with
#     batch B and grad_accum 2 over the same samples;
#   - a second 2-rank run, with OpenMPI's TCP transport forced (the path between machines), is
#     bit-identical to the first;
#   - --zero1 (AdamW moments sharded across the ranks) is bit-identical to the unsharded run;
#   - --optimizer muon with --zero1 (Muon's momentum on every rank, AdamW's sharded) equals 1 process;
#   - --model bert (masked-LM batches, masks from the sampler's stream) equals 1 process with grad_accum 2;
#   - 2 ranks: 3 steps + resume + 3 steps is bit-identical to 6 steps;
#   - SIGTERM to mpirun: every rank stops after the same step, rank 0 saves, the run resumes;
#   - SIGTERM to the ranks (as a batch scheduler sends it): exit 143 and today's message;
#   - kill -9 of one rank: the job ends within 30 s, the last checkpoint loads and resumes (as one
#     process: the one-line warning that the number of ranks changed);
#   - a non-finite loss stops every rank with today's message, naming the rank;
#   - an error on one rank ends the job instead of leaving the others waiting.
# Skipped (77) only where mpirun is not installed and the suite does not require it (scripts/test.sh
# sets GPT_REQUIRE_TORCH=1: the set-up installs OpenMPI, so a missing mpirun is a failure there).
source "$(dirname "$0")/failure_lib.bash" "$@"
if ! command -v mpirun > /dev/null; then
    [ "${GPT_REQUIRE_TORCH:-0}" = 1 ] && { echo "FAIL: mpirun not found (scripts/setup.sh installs openmpi-bin)"; exit 1; }
    echo "skipped: mpirun not found (apt-get install openmpi-bin libopenmpi-dev)"; exit 77
fi
cd "$WORK"
make_corpus tiny.txt
# Root may run mpirun only when it says so; --oversubscribe: 2 ranks even on a 1-core machine.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
MPIRUN=(timeout 60 mpirun -np 2 --oversubscribe)
# For the runs signalled below: timeout passes a SIGTERM on to mpirun alone (without --foreground it
# also signals its process group, and a second SIGTERM makes mpirun kill the ranks at once).
MPIRUN_SIGNALLED=(timeout --foreground 60 mpirun -np 2 --oversubscribe)
base=("${TINY[@]}" --tokenizer char --data tiny.txt)
args=("${base[@]}" --ckpt_interval 3)
losses_of() { grep -o '"train_loss": [^,]*' "$1" | awk '{print $2}' | tr '\n' ' '; }
# Bit-identical training state: weights, AdamW moments and step, sampler and RNG states (h5diff
# compares exactly when no tolerance is given). $3: the groups (default all three).
same_state() {
    local group
    for group in ${3:-/model /optimizer /train}; do
        h5diff -q "$1" "$2" "$group" > /dev/null 2>&1 || { echo "$group differs"; return 1; }
    done
}
checksum() { md5sum "$1" 2>/dev/null | cut -d' ' -f1; }

# --- 2 ranks × B == 1 process × B × grad_accum 2 ------------------------------------------------------
"$GPT" train "${args[@]}" --out_dir one --max_iters 6 --grad_accum 2 > one.log 2>&1 || fail "1 process, grad_accum 2: $(tail -n 1 one.log)"
"${MPIRUN[@]}" "$GPT" train "${args[@]}" --out_dir two --max_iters 6 > two.log 2>&1 || fail "2 ranks: $(tail -n 3 two.log)"
checks=$((checks + 1))
if [ -n "$(losses_of one/metrics.jsonl)" ] && [ "$(losses_of one/metrics.jsonl)" = "$(losses_of two/metrics.jsonl)" ] &&
   diff=$(same_state one/ckpt.h5 two/ckpt.h5 "/model /optimizer"); then
    pass "2 ranks = 1 process with grad_accum 2, bit for bit (losses $(losses_of two/metrics.jsonl))"
else fail "2 ranks differ from grad_accum 2: $(losses_of one/metrics.jsonl) vs $(losses_of two/metrics.jsonl) $diff"; fi
checks=$((checks + 1))
if grep -qF "ranks: 2, weights identical on every rank" two.log && grep -qF "2 ranks × 1 threads, effective batch 2×2×1 = 4 sequences" two.log &&
   grep -q '"ranks": 2' two/metrics.jsonl && [ "$(grep -c 'gpt train:' two.log)" -eq 1 ]; then
    pass "weights of both ranks identical; ranks and effective batch logged once (rank 0)"
else fail "2-rank log: $(head -n 3 two.log)"; fi

# --- the same 2-rank run over TCP is bit-identical (the path between machines) -------------------------
"${MPIRUN[@]}" --mca btl tcp,self "$GPT" train "${args[@]}" --out_dir tcp --max_iters 6 > tcp.log 2>&1 || fail "2 ranks over TCP: $(tail -n 3 tcp.log)"
checks=$((checks + 1))
if diff=$(same_state two/ckpt.h5 tcp/ckpt.h5) && [ "$(losses_of two/metrics.jsonl)" = "$(losses_of tcp/metrics.jsonl)" ]; then
    pass "two 2-rank runs (shared memory, TCP) bit-identical"
else fail "2-rank runs differ: $diff"; fi

# --- ZeRO-1 (moments sharded across the ranks) gives the same bits and the same checkpoint ----------------
"${MPIRUN[@]}" "$GPT" train "${args[@]}" --out_dir zero --max_iters 6 --zero1 true > zero.log 2>&1 || fail "2 ranks, --zero1: $(tail -n 3 zero.log)"
checks=$((checks + 1))
if diff=$(same_state two/ckpt.h5 zero/ckpt.h5) && grep -q "ZeRO-1: AdamW moments" zero.log; then
    pass "--zero1: bit-identical to the unsharded run, full moments in the checkpoint"
else fail "--zero1 differs: $diff $(grep -E '^(error|gpt train)' zero.log)"; fi

# --- Muon (blocks' matrices) + AdamW sharded by ZeRO-1: 2 ranks == 1 process with grad_accum 2 -----------
"$GPT" train "${args[@]}" --out_dir muon_one --max_iters 6 --grad_accum 2 --optimizer muon > muon_one.log 2>&1 || fail "muon, 1 process: $(tail -n 1 muon_one.log)"
"${MPIRUN[@]}" "$GPT" train "${args[@]}" --out_dir muon_two --max_iters 6 --optimizer muon --zero1 true > muon_two.log 2>&1 || fail "muon, 2 ranks, --zero1: $(tail -n 3 muon_two.log)"
checks=$((checks + 1))
if diff=$(same_state muon_one/ckpt.h5 muon_two/ckpt.h5 "/model /optimizer /muon") &&
   [ "$(losses_of muon_one/metrics.jsonl)" = "$(losses_of muon_two/metrics.jsonl)" ] && grep -q "Muon for" muon_two.log; then
    pass "--optimizer muon --zero1: 2 ranks = 1 process with grad_accum 2, bit for bit (/muon included)"
else fail "muon under 2 ranks differs: $diff $(grep -E '^(error|gpt train)' muon_two.log)"; fi

# --- model bert: the masks come from the sampler's stream, so 2 ranks == 1 process with grad_accum 2 ------
"$GPT" train "${args[@]}" --out_dir bert_one --max_iters 4 --grad_accum 2 --model bert > bert_one.log 2>&1 || fail "bert, 1 process: $(tail -n 1 bert_one.log)"
"${MPIRUN[@]}" "$GPT" train "${args[@]}" --out_dir bert_two --max_iters 4 --model bert > bert_two.log 2>&1 || fail "bert, 2 ranks: $(tail -n 3 bert_two.log)"
checks=$((checks + 1))
if [ -n "$(losses_of bert_one/metrics.jsonl)" ] && diff=$(same_state bert_one/ckpt.h5 bert_two/ckpt.h5 "/model /optimizer") &&
   [ "$(losses_of bert_one/metrics.jsonl)" = "$(losses_of bert_two/metrics.jsonl)" ]; then
    pass "--model bert: 2 ranks = 1 process with grad_accum 2, bit for bit (masked-LM batches)"
else fail "bert under 2 ranks differs: $diff $(grep -E '^(error|gpt train)' bert_two.log)"; fi

# --- 2 ranks: 3 steps + resume + 3 steps == 6 steps -----------------------------------------------------
"${MPIRUN[@]}" "$GPT" train "${args[@]}" --out_dir resumed --max_iters 3 > r1.log 2>&1 || fail "2 ranks, 3 steps: $(tail -n 3 r1.log)"
"${MPIRUN[@]}" "$GPT" train --resume resumed --max_iters 6 > r2.log 2>&1 || fail "2 ranks, resume: $(tail -n 3 r2.log)"
checks=$((checks + 1))
if diff=$(same_state two/ckpt.h5 resumed/ckpt.h5) && [ "$(losses_of two/metrics.jsonl)" = "$(losses_of resumed/metrics.jsonl)" ] &&
   ! grep -q "^warning: resuming" r2.log; then
    pass "2 ranks: 3 + resume + 3 steps = 6 steps, bit for bit"
else fail "2-rank resume differs: $diff"; fi

# --- an error on one rank ends the job (rank 1 waits in a collective for rank 0, which refuses the folder) --
"${MPIRUN[@]}" "$GPT" train "${args[@]}" --out_dir two --max_iters 6 > refused.log 2>&1
rc=$?
checks=$((checks + 1))
if [ "$rc" -eq 1 ] && grep -q '^error: rank 0: run folder two already holds a run' refused.log; then
    pass "rank 0 alone fails: the job ends (rc 1) with its error line"
else fail "one rank failing: rc $rc, $(grep -m1 error refused.log)"; fi

# --- a non-finite loss stops every rank, naming the rank -------------------------------------------------
cp -r resumed nan && "${MPIRUN[@]}" "$GPT" train --resume nan --max_iters 12 --lr 1e30 > nan.log 2>&1
rc=$?
checks=$((checks + 1))
if [ "$rc" -ne 0 ] && [ "$(grep -c '^error: step [0-9]*: the loss is .* on rank [01] (parameter ' nan.log)" -eq 1 ]; then
    pass "non-finite loss: rc $rc, $(grep '^error:' nan.log | cut -c1-60)…"
else fail "non-finite loss: rc $rc, $(grep -E 'error|rank' nan.log | head -n 3)"; fi

# --- SIGTERM to mpirun: all ranks stop after the same step, rank 0 saves, the run resumes ----------------
# A run long enough to be signalled mid-way (it would take minutes): the signal once a checkpoint exists.
long=("${base[@]}" --max_iters 100000 --ckpt_interval 20)
wait_for() { for _ in $(seq 1 300); do [ -e "$1" ] && return 0; sleep 0.1; done; return 1; }
# OpenMPI signals the ranks odls_base_sigkill_timeout seconds after mpirun gets SIGTERM and kills them as
# long again later (default 1 s): 3 s leave room for the step and the save on a loaded machine.
"${MPIRUN_SIGNALLED[@]}" --mca odls_base_sigkill_timeout 3 "$GPT" train "${long[@]}" --out_dir term > term.log 2>&1 &
pid=$!
wait_for term/ckpt.h5 || fail "SIGTERM run: no checkpoint appeared"
kill -TERM "$pid"; wait "$pid"; rc=$?
checks=$((checks + 1))
# The step saved: a save at the stop writes the step the metrics end on (rank 0 logs every step, then
# saves), and never one between (a rank that stopped a step late would not match rank 0's collectives).
# mpirun stops forwarding the ranks' output once it ends the job, so the "stopped by signal" line may
# not reach term.log; when it does, it names the same step.
step=$(h5dump -a /train/iter term/ckpt.h5 2>/dev/null | sed -n 's/.*(0): \([0-9]*\)$/\1/p')
logged=$(grep -o '"step": [0-9]*' term/metrics.jsonl | tail -n 1 | awk '{print $2}')
said=$(sed -n 's/^stopped by signal 15 after step \([0-9]*\);.*/\1/p' term.log)
if [ -n "$step" ] && [ "$step" = "$logged" ] && [ "$step" -gt 20 ] && [ "${said:-$step}" = "$step" ] && [ "$rc" -ne 0 ]; then
    pass "SIGTERM to mpirun: all ranks stopped after step $step, checkpoint at step $step (mpirun rc $rc${said:+, message seen})"
else fail "SIGTERM to mpirun (rc $rc): checkpoint at '$step', metrics end at '$logged', message '$said'"; fi
"${MPIRUN[@]}" "$GPT" train --resume term --max_iters $((step + 2)) > term2.log 2>&1
rc=$?
checks=$((checks + 1))
if [ "$rc" -eq 0 ] && grep -q "done: $((step + 2)) steps" term2.log; then pass "resumed after SIGTERM to step $((step + 2))"
else fail "resume after SIGTERM: $(tail -n 3 term2.log)"; fi

# --- optimizer_in_backward updates before the gradients are summed across ranks: refused -------------------
checks=$((checks + 1))
if "${MPIRUN[@]}" "$GPT" train "${base[@]}" --out_dir oib --max_iters 2 --grad_clip 0 --optimizer_in_backward true > oib.log 2>&1; then
    fail "optimizer_in_backward under 2 ranks was not refused"
elif grep -qF "optimizer_in_backward needs one process" oib.log && ! grep -qE "Segmentation|terminate called" oib.log; then
    pass "optimizer_in_backward under 2 ranks refused: $(grep -m1 -F 'optimizer_in_backward needs' oib.log)"
else fail "optimizer_in_backward under 2 ranks: $(tail -n 2 oib.log)"; fi

# --- SIGTERM to the ranks themselves (a batch scheduler, kill): exit 143 and today's message ------------
"${MPIRUN_SIGNALLED[@]}" "$GPT" train "${long[@]}" --out_dir term_ranks > term_ranks.log 2>&1 &
pid=$!
wait_for term_ranks/ckpt.h5 || fail "SIGTERM-to-ranks run: no checkpoint appeared"
kill -TERM $(pgrep -P "$(pgrep -P "$pid" mpirun)") 2>/dev/null; wait "$pid"; rc=$?
checks=$((checks + 1))
said=$(sed -n 's/^stopped by signal 15 after step \([0-9]*\);.*/\1/p' term_ranks.log)
step=$(h5dump -a /train/iter term_ranks/ckpt.h5 2>/dev/null | sed -n 's/.*(0): \([0-9]*\)$/\1/p')
if [ "$rc" -eq 143 ] && [ "$(grep -c '^stopped by signal 15' term_ranks.log)" -eq 1 ] && [ -n "$said" ] && [ "$said" = "$step" ]; then
    pass "SIGTERM to the ranks: rc 143, one 'stopped by signal 15 after step $step', checkpoint at that step"
else fail "SIGTERM to the ranks: rc $rc, message '$said', checkpoint at '$step'"; fi

# --- kill -9 of one rank: the job ends within 30 s; the last checkpoint loads and resumes ----------------
"${MPIRUN_SIGNALLED[@]}" "$GPT" train "${long[@]}" --out_dir killed > killed.log 2>&1 &
pid=$!
wait_for killed/ckpt.h5 || fail "kill -9 run: no checkpoint appeared"
rank1=""
for child in $(pgrep -P "$(pgrep -P "$pid" mpirun)" 2>/dev/null); do  # timeout → mpirun → the ranks
    tr '\0' '\n' < "/proc/$child/environ" 2>/dev/null | grep -qx 'OMPI_COMM_WORLD_RANK=1' && rank1=$child
done
start=$(date +%s)
[ -n "$rank1" ] && kill -9 "$rank1"
wait "$pid"; rc=$?
seconds=$(( $(date +%s) - start ))
checks=$((checks + 1))
if [ -n "$rank1" ] && [ "$rc" -ne 0 ] && [ "$seconds" -le 30 ]; then pass "kill -9 of rank 1: the job ended in ${seconds}s (rc $rc)"
else fail "kill -9 of rank 1 (pid '${rank1}'): rc $rc after ${seconds}s"; fi
checks=$((checks + 1))
stored=$(h5dump -a /train/iter killed/ckpt.h5 2>/dev/null | sed -n 's/.*(0): \([0-9]*\)$/\1/p')
if [ -n "$stored" ] && "$GPT" train --resume killed --max_iters $((stored + 2)) > killed2.log 2>&1 &&
   [ "$(grep -c '^warning: resuming with 1 rank a checkpoint written by 2' killed2.log)" -eq 1 ]; then
    pass "the checkpoint of the killed job (step $stored) resumes as one process, with one warning"
else fail "resume after kill -9: $(tail -n 3 killed2.log)"; fi

# --- ranks started with different options: one clear error, no crash, nothing in the run folder ----------
# (MPMD launch: "-np 1 A : -np 1 B" starts rank 0 with A and rank 1 with B.)
disagree() {  # $1 = name, $2 $3 = the option and the value rank 1 gets instead of rank 0's; writes $1.log
    local rank0=("${base[@]}" --out_dir "$1" --max_iters 2) rank1=() i replaced=0
    for ((i = 0; i < ${#rank0[@]}; i++)); do
        if [ "${rank0[i]}" = "$2" ]; then rank1+=("$2" "$3"); i=$((i + 1)); replaced=1; else rank1+=("${rank0[i]}"); fi
    done
    [ "$replaced" = 1 ] || rank1+=("$2" "$3")  # an option rank 0 leaves at its default
    timeout 60 mpirun --oversubscribe -np 1 "$GPT" train "${rank0[@]}" : -np 1 "$GPT" train "${rank1[@]}" > "$1.log" 2>&1
}
for case in "n_embd:--n_embd 32:n_embd is 16 on rank 0 but 32 on rank 1" \
            "max_iters:--max_iters 3:max_iters is 2 on rank 0 but 3 on rank 1" \
            "seed:--seed 7:seed is 1337 on rank 0 but 7 on rank 1"; do
    IFS=: read -r name option said <<<"$case"
    # shellcheck disable=SC2086
    disagree "differ_$name" $option; rc=$?
    checks=$((checks + 1))
    errors=$(grep -c '^error: ' "differ_$name.log")
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && [ "$errors" -eq 1 ] &&
       grep -qF "error: ranks disagree on the training configuration: $said (start every rank with the same options)" "differ_$name.log" &&
       ! grep -qiE 'corrupted|MPI_ERR|Segmentation|AddressSanitizer|core dumped' "differ_$name.log" && [ ! -e "differ_$name" ]; then
        pass "ranks with different $name: rc $rc, one error line naming it, no run folder"
    else fail "ranks with different $name: rc $rc, $errors error lines, folder $( [ -e "differ_$name" ] && echo written || echo absent): $(grep -v '^-' "differ_$name.log" | head -n 3)"; fi
done

finish
