#!/usr/bin/env bash
# Bad inputs to `gpt train` and `gpt sample`: each is refused with one "error:" line naming the culprit
# and a non-zero exit code (1 for run-time errors, 2 for command-line and config-file errors).
source "$(dirname "$0")/failure_lib.bash" "$@"
cd "$WORK"
make_corpus tiny.txt
: > empty.txt
printf 'abc' > short.txt
head -c 3000 "$GPT" > binary.dat
for i in $(seq 1 100); do printf 'hello \xff\xfe world '; done > bad_utf8.txt
mkdir -p empty_folder

train() { "$GPT" train "${TINY[@]}" --max_iters 2 "$@"; }
expect_error "empty corpus" 1 "empty.txt: is empty" -- train --data empty.txt --out_dir r1
expect_error "corpus shorter than one block" 1 "short.txt is too small" -- train --data short.txt --out_dir r2
expect_error "binary corpus" 1 "binary.dat: looks binary" -- train --data binary.dat --out_dir r3
expect_error "invalid UTF-8, char tokenizer" 1 "bad_utf8.txt: invalid UTF-8 at byte offset 6" -- train --data bad_utf8.txt --out_dir r4
expect_error "missing corpus" 1 "missing.txt: does not exist" -- train --data missing.txt --out_dir r5
expect_error "folder without text files" 1 "empty_folder: directory has no text files" -- train --data empty_folder --out_dir r6

printf '[train]\nn_layer = = 3\n' > syntax.toml
printf '[train]\nn_layr = 3\n' > unknown.toml
printf 'n_layer = 2\n' > no_table.toml
expect_error "config syntax error" 2 "syntax.toml:2: n_layer" -- "$GPT" train --config syntax.toml --data tiny.txt
expect_error "config unknown key" 2 "unknown.toml:2: unknown key 'n_layr'" -- "$GPT" train --config unknown.toml --data tiny.txt
expect_error "config key outside [train]" 2 "no_table.toml:1: key 'n_layer' outside the [train] table" -- "$GPT" train --config no_table.toml
expect_error "config is a directory" 2 "is a directory" -- "$GPT" train --config empty_folder
expect_error "config missing" 2 "config file none.toml: No such file or directory" -- "$GPT" train --config none.toml
expect_error "unknown option" 2 "--bogus" -- "$GPT" train --bogus 3
expect_error "non-numeric size" 2 "n_layer" -- "$GPT" train --n_layer abc

sizes=(--data tiny.txt --out_dir r7 --max_iters 2 --eval_iters 2 --sample_tokens 0 --threads 1)
expect_error "n_embd not divisible by n_head" 1 "n_embd (15) must be divisible by n_head (2)" -- "$GPT" train "${sizes[@]}" --n_embd 15 --n_head 2 --n_layer 1
expect_error "n_head not divisible by n_kv_head" 1 "n_kv_head" -- "$GPT" train "${sizes[@]}" --n_embd 24 --n_head 4 --n_kv_head 3 --n_layer 1
expect_error "block_size 0" 1 "block_size" -- "$GPT" train "${sizes[@]}" --block_size 0
expect_error "negative n_layer" 1 "n_layer" -- "$GPT" train "${sizes[@]}" --n_layer -1
expect_error "negative batch_size" 1 "batch_size" -- "$GPT" train "${sizes[@]}" --batch_size -3
expect_error "zero n_embd" 1 "n_embd" -- "$GPT" train "${sizes[@]}" --n_embd 0
expect_error "negative lr" 1 "lr must be positive" -- "$GPT" train "${sizes[@]}" --lr -1

# Resource limits: refused before training, with the estimate (parameters alone, then activations alone).
small=(--n_layer 1 --n_head 2 --eval_iters 2 --sample_tokens 0 --threads 1 --max_iters 2)
expect_error "model too large for memory" 1 "GiB of memory is available" -- \
    "$GPT" train "${small[@]}" --data tiny.txt --out_dir r8 --n_embd 65536 --block_size 8 --batch_size 2
for i in $(seq 1 20); do cat tiny.txt; done > big.txt
expect_error "activations too large for memory" 1 "of activations at batch_size 100000" -- \
    "$GPT" train "${small[@]}" --data big.txt --out_dir r9 --n_embd 16 --block_size 4096 --batch_size 100000

# A checkpoint to sample from, then the prompt errors.
"$GPT" train "${TINY[@]}" --data tiny.txt --out_dir run --max_iters 2 > /dev/null 2>&1 || fail "training the tiny model"
long_prompt=$(head -c 40 tiny.txt | tr -d '\n')
expect_error "prompt longer than block_size" 1 "more than the model's block_size 8" -- "$GPT" sample --checkpoint run --prompt "$long_prompt"
expect_error "prompt with an unknown character" 1 "is not in the tokenizer's vocabulary" -- "$GPT" sample --checkpoint run --prompt "~~~"
expect_error "prompt file is a directory" 1 "is a directory" -- "$GPT" sample --checkpoint run --prompt_file empty_folder
expect_error "prompt file missing" 1 "--prompt_file none.txt: No such file or directory" -- "$GPT" sample --checkpoint run --prompt_file none.txt
expect_error "checkpoint folder without ckpt.h5" 1 "has no ckpt.h5" -- "$GPT" sample --checkpoint empty_folder
expect_error "checkpoint missing" 1 "no such checkpoint" -- "$GPT" sample --checkpoint none.h5
expect_error "checkpoint is a text file" 1 "not an HDF5 file" -- "$GPT" sample --checkpoint tiny.txt
# Sampling parameters outside their documented ranges (generate/sampling.h; issue 27: 1e-45 gave NaN).
expect_error "repetition penalty 1e-45" 1 "--repetition_penalty must be in [0.01, 100]" -- "$GPT" sample --checkpoint run --repetition_penalty 1e-45
expect_error "temperature 1e-30" 1 "--temperature must be 0 (greedy) or in [0.001, 1000]" -- "$GPT" sample --checkpoint run --temperature 1e-30
expect_error "top_p nan" 1 "--top_p must be in (0, 1]" -- "$GPT" sample --checkpoint run --top_p nan
finish
