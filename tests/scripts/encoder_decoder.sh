#!/usr/bin/env bash
# The encoder–decoder journey on a tiny budget (seconds): scripts/toy_tasks.py writes a task →
# gpt train --model transformer → resume → gpt translate (greedy, beam) → gpt eval (held-out loss and
# exact match); then bad input, each one "error:" line naming the culprit and a non-zero exit.
source "$(dirname "$0")/failure_lib.bash" "$@"
SOURCE_DIR=$(cd "$(dirname "$0")/../.." && pwd)
cd "$WORK"
checks=$((checks + 1))
"$PYTHON" "$SOURCE_DIR/scripts/toy_tasks.py" --out toy --tasks reverse --train 200 --valid 20 --test 30 > /dev/null ||
    fail "toy_tasks.py"

ED=(--model transformer --n_encoder_layer 1 --n_decoder_layer 1 --n_head 2 --n_embd 16 --block_size 16
    --batch_size 4 --eval_interval 3 --eval_iters 2 --log_interval 1 --threads 1 --warmup_iters 2 --val_fraction 0.1)

# Train 4 steps, resume to 6: the run goes on from its checkpoint (exact resume itself: tests/train/test_resume.cpp).
check() {  # check NAME CONDITION...
    checks=$((checks + 1))
    if "${@:2}"; then pass "$1"; else fail "$1"; fi
}
"$GPT" train "${ED[@]}" --dropout 0.1 --data toy/reverse/train.tsv --out_dir run --max_iters 4 > train.out 2> train.err
check "train exits 0" [ $? -eq 0 ]
check "train says the model and data" grep -q "model transformer, .* parameters, .*train 180 examples, held out 20 examples" train.err
check "train writes ckpt.h5 and ckpt_best.h5" [ -s run/ckpt.h5 -a -s run/ckpt_best.h5 ]
check "metrics has a validation loss and a translation sample" grep -q '"val_loss": .*"sample": ".* → ' run/metrics.jsonl
check "config.toml records model = transformer" grep -q '^model = "transformer"' run/config.toml
"$GPT" train --resume run --max_iters 6 > resume.out 2> resume.err
check "resume exits 0" [ $? -eq 0 ]
check "resume continues at step 4" grep -q "steps 4..6" resume.err
check "metrics reach step 6" grep -q '"step": 6,' run/metrics.jsonl

out=$("$GPT" translate --checkpoint run --text abcdef 2> translate.err)
check "translate exits 0 with one line" [ $? -eq 0 -a "$(printf '%s\n' "$out" | wc -l)" -eq 1 ]
check "translate reports the log-probability" grep -q "^log p -" translate.err
"$GPT" translate --checkpoint run --text abcdef --beam 3 --length_penalty 0.6 > beam.out 2> beam.err
check "beam search exits 0" [ $? -eq 0 ]
"$GPT" translate --checkpoint run --text abcdef --beam 1 > greedy1.out 2> /dev/null
check "beam 1 is greedy" [ "$(cat greedy1.out)" = "$out" ]

"$GPT" eval --checkpoint run > eval.json 2> eval.err
check "eval exits 0" [ $? -eq 0 ]
check "eval reports loss and exact match on the 20 held-out lines" \
    grep -qE '^\{"loss": [0-9.]+, "tokens": [0-9]+, "examples": 20, "exact_match": [0-9.]+, "correct": [0-9]+\}$' eval.json
"$GPT" eval --checkpoint run --data toy/reverse/test.tsv --max_examples 7 > test.json 2> /dev/null
check "eval --data reads every line of another file" grep -q '"examples": 7,' test.json

# report: written by the training loop, and by gpt report: the maps of the first held-out pair (encoder,
# decoder, cross attention), the decoder's predictions, held-out translations; --source picks the pair.
check "the training loop wrote report.html" [ -s run/report.html ]
out=$("$GPT" report run 2> report.err)
check "report exits 0 and prints the page" [ $? -eq 0 -a "$out" = "run/report.html" ]
for map in enc-L0-H1 dec-L0-H1 cross-L0-H1; do
    check "report.html has the map $map" grep -q "id=\"$map\"" run/report.html
done
check "report.html has the decoder's predictions" grep -q 'id="predictions"' run/report.html
check "report.html has the held-out translations" grep -q 'id="translations"' run/report.html
"$GPT" report run --source abcdef > /dev/null 2> report_source.err
check "report --source: the encoder's maps are 6x6" \
    grep -q 'id="enc-L0-H0" .*data-rows="6" data-cols="6"' run/report.html
"$GPT" report run --source abcdef --target fedcb > /dev/null 2> report_target.err
check "report --source --target: the cross maps are (bos + 5) x 6" \
    grep -q 'id="cross-L0-H0" .*data-rows="6" data-cols="6"' run/report.html
expect_error "report: a --source longer than the encoder's context" 1 "--source is 26 tokens, longer than the encoder's context" -- \
    "$GPT" report run --source abcdefghijklmnopqrstuvwxyz
expect_error "report: --prompt on a transformer run" 1 "--prompt is for model = gpt and bert runs" -- \
    "$GPT" report run --prompt abc

# GPT-2's tokenizer format (encoder.json + vocab.bpe; here GPT-2's 256 byte tokens without merges, written
# as GPT-2's bytes_to_unicode maps them): the pairs read with it, a translation decoded with it.
"$PYTHON" - <<'PY'
import json, os
bs = list(range(33, 127)) + list(range(161, 173)) + list(range(174, 256))
cs, n = bs[:], 0
for b in range(256):
    if b not in bs:
        bs.append(b); cs.append(256 + n); n += 1
os.makedirs("gpt2_files", exist_ok=True)
json.dump({**{chr(c): i for i, c in enumerate(cs)}, "<|endoftext|>": 256}, open("gpt2_files/encoder.json", "w"))
open("gpt2_files/vocab.bpe", "w").write("#version: 0.2\n")
PY
"$GPT" train "${ED[@]}" --tokenizer gpt2 --tokenizer_files gpt2_files --data toy/reverse/train.tsv --out_dir gpt2_run \
    --max_iters 2 > gpt2.out 2> gpt2.err
check "tokenizer gpt2: trains on the pairs" grep -q "gpt2 tokenizer, vocab 257 + bos, eos" gpt2.err
"$GPT" translate --checkpoint gpt2_run --text abc > gpt2_translate.out 2> /dev/null
check "tokenizer gpt2: translate decodes with it" [ $? -eq 0 ]

# Data-parallel: 2 ranks × batch B == 1 process × B × grad_accum 2, bit for bit (as tests/scripts/mpi.sh
# checks for model = gpt; without dropout, whose streams are per rank). Where mpirun is missing this
# says so and checks nothing (mpi.sh fails the suite then).
if command -v mpirun > /dev/null; then
    DP=("${ED[@]}" --dropout 0)
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
    losses_of() { grep -o '"train_loss": [^,]*' "$1" | awk '{print $2}' | tr '\n' ' '; }
    "$GPT" train "${DP[@]}" --data toy/reverse/train.tsv --out_dir one --max_iters 4 --grad_accum 2 > one.log 2>&1
    timeout 120 mpirun -np 2 --oversubscribe "$GPT" train "${DP[@]}" --data toy/reverse/train.tsv --out_dir two \
        --max_iters 4 > two.log 2>&1
    check "2 ranks = 1 process with grad_accum 2: the same losses" \
        [ -n "$(losses_of one/metrics.jsonl)" -a "$(losses_of one/metrics.jsonl)" = "$(losses_of two/metrics.jsonl)" ]
    check "2 ranks = 1 process with grad_accum 2: the same weights" \
        h5diff -q one/ckpt.h5 two/ckpt.h5 /model
    check "2 ranks = 1 process with grad_accum 2: the same AdamW moments" h5diff -q one/ckpt.h5 two/ckpt.h5 /optimizer
else
    echo "note: mpirun not found: the data-parallel check of model = transformer did not run"
fi

# Bad input.
printf 'abc\tcba\nno tab here\n' > no_tab.tsv
printf 'abc\tcba\nab\t%s\n' "$(printf 'x%.0s' $(seq 1 40))" > long.tsv
expect_error "a line without a tab" 1 "no_tab.tsv:2: no tab" -- \
    "$GPT" train "${ED[@]}" --data no_tab.tsv --out_dir bad1 --max_iters 1
expect_error "a target longer than the decoder's context" 1 "long.tsv:2: target of 40 tokens + eos exceeds the decoder's context" -- \
    "$GPT" train "${ED[@]}" --data long.tsv --out_dir bad2 --max_iters 1
expect_error "an unknown model kind" 1 'model must be "gpt", "bert" or "transformer", got "bart"' -- \
    "$GPT" train --model bart --data no_tab.tsv --out_dir bad3
expect_error "a GPT-only option" 1 "model transformer does not take vocab_pad" -- \
    "$GPT" train "${ED[@]}" --data toy/reverse/train.tsv --out_dir bad4 --vocab_pad 64
expect_error "gpt sample on a transformer checkpoint" 1 "a model = transformer checkpoint; this needs model = gpt" -- \
    "$GPT" sample --checkpoint run --max_new_tokens 3
make_corpus tiny.txt
"$GPT" train "${TINY[@]}" --data tiny.txt --out_dir gpt_run --max_iters 1 > /dev/null 2>&1 || fail "a one-step gpt run"
expect_error "gpt translate on a gpt checkpoint" 1 "a model = gpt checkpoint; this needs model = transformer" -- \
    "$GPT" translate --checkpoint gpt_run --text abc
expect_error "a source longer than the encoder's context" 1 "longer than the encoder's context (16 tokens" -- \
    "$GPT" translate --checkpoint run --text abcdefghijklmnopqrstuvwxyz
expect_error "a character the tokenizer lacks" 1 "--text cannot be encoded" -- \
    "$GPT" translate --checkpoint run --text 'ABC'
expect_error "resume with another model kind" 1 "option model" -- \
    "$GPT" train --resume run --model gpt --max_iters 8
finish
