#!/usr/bin/env bash
# The command line as a nanoGPT user meets it: --version; typed options with defaults as people type
# them in every subcommand's --help; --config under train --help; did-you-mean for a mistyped option,
# command or config key (one "error:" line, exit 2); one boolean convention (--bias False, a bare
# --show_probs); nanoGPT's option names; integers out of range refused naming the option.
source "$(dirname "$0")/failure_lib.bash" "$@"
SOURCE_DIR=$(cd "$(dirname "$0")/../.." && pwd)
cd "$WORK"
make_corpus tiny.txt

check() {  # check NAME COMMAND... : the command succeeds
    local name=$1; shift
    checks=$((checks + 1))
    if "$@" > out 2> err; then pass "$name"; else fail "$name (rc $?): $(tail -n 2 err)"; fi
}

# --version: the project's version from CMake.
checks=$((checks + 1))
version=$(grep -m1 -oE 'project\(gpt_cpp VERSION [0-9.]+' "$SOURCE_DIR/CMakeLists.txt" | awk '{print $3}')
if [ "$("$GPT" --version)" = "gpt $version" ]; then pass "--version prints gpt $version"
else fail "--version: '$("$GPT" --version)', expected 'gpt $version'"; fi

# --help: types and numbers as typed, --config listed, the same style in every subcommand.
"$GPT" train --help > help.txt
checks=$((checks + 1))
if grep -qE -- '--config FILE' help.txt && grep -qE -- '--weight_decay FLOAT .*\(default 0\.1\)' help.txt &&
   grep -qE -- '--beta2 FLOAT .*\(default 0\.99\)' help.txt && grep -qE -- '--n_layer INT ' help.txt &&
   grep -qE -- '--bias BOOL ' help.txt && grep -qE -- '--lr,--learning_rate FLOAT' help.txt &&
   ! grep -qE '0\.1000000|0\.9899999|TEXT .*\(default [0-9]' help.txt; then
    pass "train --help: --config, INT/FLOAT/BOOL, 0.1 and 0.99"
else fail "train --help:"; cat help.txt; fi
for command in sample eval report graph serve; do
    checks=$((checks + 1))
    "$GPT" $command --help > help.txt
    if grep -qE -- '--threads INT |--n_layer INT ' help.txt && ! grep -qE '[0-9]\.[0-9]{12,}' help.txt &&
       ! grep -qE -- '--(threads|seed|top_k|n_layer|sample_tokens|max_tokens) TEXT' help.txt; then
        pass "$command --help: typed options"
    else fail "$command --help:"; cat help.txt; fi
done
checks=$((checks + 1))
if "$GPT" sample --help | grep -qE -- '--temperature FLOAT .*\(default 0\.8\)' &&
   "$GPT" sample --help | grep -qE -- '--show_probs BOOL'; then pass "sample --help: 0.8, BOOL"
else fail "sample --help"; fi

# Did-you-mean: options, commands, config keys.
expect_error "option typo" 2 "unknown option --n_layr; did you mean --n_layer?" -- "$GPT" train --n_layr 2
expect_error "option typo (sample)" 2 "unknown option --temprature; did you mean --temperature?" -- \
    "$GPT" sample --checkpoint x --temprature 0.5
expect_error "nanoGPT name typo" 2 "did you mean --learning_rate?" -- "$GPT" train --learnig_rate 0.1
expect_error "command typo" 2 "unknown command 'trian'; did you mean train?" -- "$GPT" trian
printf '[train]\nn_layer = 1\nn_layr = 2\n' > typo.toml
expect_error "config key typo" 2 "typo.toml:3: unknown key 'n_layr'; did you mean n_layer?" -- "$GPT" train --config typo.toml

# Integers out of range are refused, naming the option; so are non-integers and bad booleans.
expect_error "sample seed overflow" 2 "--seed: 99999999999999999999 is out of range" -- \
    "$GPT" sample --checkpoint x --seed 99999999999999999999
expect_error "train seed overflow" 2 "--seed: 99999999999999999999 is out of range" -- \
    "$GPT" train --seed 99999999999999999999
expect_error "graph n_layer overflow" 2 "--n_layer: 99999999999999999999 is out of range" -- \
    "$GPT" graph --n_layer 99999999999999999999
expect_error "report sample_tokens not an integer" 2 "--sample_tokens: expected an integer, got '1.5'" -- \
    "$GPT" report run --sample_tokens 1.5
expect_error "eval max_tokens overflow" 2 "--max_tokens: -99999999999999999999 is out of range" -- \
    "$GPT" eval --checkpoint x --data tiny.txt --max_tokens=-99999999999999999999
expect_error "bad boolean" 2 "--bias: expected true or false" -- "$GPT" train --bias maybe
printf '[train]\nseed = 99999999999999999999\n' > big.toml
expect_error "config integer overflow" 2 "big.toml:2: seed: 99999999999999999999 is out of range" -- \
    "$GPT" train --config big.toml

# One boolean convention: --bias False, nanoGPT's names on the command line and in a file.
check "train --bias False --learning_rate --gradient_accumulation_steps --dataset" \
    "$GPT" train "${TINY[@]}" --max_iters 2 --out_dir run1 --bias False --learning_rate 0.003 \
    --gradient_accumulation_steps 2 --dataset tiny.txt --skip_nonfinite=yes
checks=$((checks + 1))
if grep -qx 'bias = false' run1/config.toml && grep -qx 'lr = 0.003' run1/config.toml &&
   grep -qx 'grad_accum = 2' run1/config.toml && grep -qx 'data = "tiny.txt"' run1/config.toml &&
   grep -qx 'skip_nonfinite = true' run1/config.toml && grep -qx 'weight_decay = 0.1' run1/config.toml &&
   grep -qx 'min_lr = 3e-4' run1/config.toml; then
    pass "config.toml: bias = false, aliases arrived, shortest numbers"
else fail "config.toml:"; cat run1/config.toml; fi
printf '[train]\nbias = False\nlearning_rate = 0.002\ngradient_accumulation_steps = 3\ndataset = "tiny.txt"\n' > nano.toml
check "nanoGPT names in a config file" "$GPT" train --config nano.toml "${TINY[@]}" --max_iters 1 --out_dir run2
checks=$((checks + 1))
if grep -qx 'bias = false' run2/config.toml && grep -qx 'lr = 0.002' run2/config.toml &&
   grep -qx 'grad_accum = 3' run2/config.toml; then pass "config file aliases arrived"
else fail "config file aliases:"; cat run2/config.toml; fi
# The written config.toml loads again and writes itself back unchanged.
check "config.toml loads again" "$GPT" train --config run1/config.toml --out_dir run3 --max_iters 2
checks=$((checks + 1))
if diff <(grep -v '^out_dir' run1/config.toml) <(grep -v '^out_dir' run3/config.toml) > /dev/null; then
    pass "config.toml round-trips"
else fail "config.toml round-trip:"; diff run1/config.toml run3/config.toml; fi

# sample: --show_probs bare, with a value, and followed by another option.
check "sample --show_probs (bare)" "$GPT" sample --checkpoint run1 --max_new_tokens 2 --show_probs --seed 3
checks=$((checks + 1))
if grep -q '^\[probs\]' err; then pass "bare --show_probs is true"; else fail "bare --show_probs printed no probs"; fi
check "sample --show_probs False" "$GPT" sample --out_dir run1 --max_new_tokens 2 --show_probs False
checks=$((checks + 1))
if ! grep -q '^\[probs\]' err; then pass "--show_probs False is false"; else fail "--show_probs False printed probs"; fi
# sample --weights: bf16 copies of the weights (said on stderr), the same greedy text as float32 on this
# model; any other value refused naming the option.
check "sample --weights float32" "$GPT" sample --checkpoint run1 --max_new_tokens 8 --temperature 0
cp out greedy_f32.txt
check "sample --weights bf16" "$GPT" sample --checkpoint run1 --max_new_tokens 8 --temperature 0 --weights bf16
checks=$((checks + 1))
if grep -q '(bf16 weights)' err && cmp -s out greedy_f32.txt; then pass "--weights bf16: said, same greedy text"
else fail "--weights bf16:"; cat err; fi
expect_error "sample --weights fp16" 1 "--weights must be float32 or bf16, got 'fp16'" -- \
    "$GPT" sample --checkpoint run1 --weights fp16
check "graph --render 0" "$GPT" graph --out g.dot --render 0

# Issue 32's journeys: the schedule fits a short fine-tune, a resume with nothing left says so, a
# Hugging Face folder given to --init_from points at gpt import.
TINY_COSINE=(--n_layer 1 --n_head 2 --n_embd 16 --block_size 8 --batch_size 2 --eval_iters 2 --eval_interval 1000
             --log_interval 1 --sample_tokens 0 --threads 1)
check "init_from at --lr 3e-5, default min_lr and warm-up" \
    "$GPT" train --init_from run1/ckpt.h5 --data tiny.txt --out_dir ft "${TINY_COSINE[@]}" --max_iters 20 --lr 3e-5
checks=$((checks + 1))
if grep -qx 'min_lr = 3e-6' ft/config.toml && grep -qx 'warmup_iters = 2' ft/config.toml &&
   grep -q '^schedule: warmup_iters 100 >= max_iters 20: warm-up clamped to 2 steps' err; then
    pass "min_lr = lr / 10, warm-up clamped to a tenth of the run with a log line"
else fail "short fine-tune schedule:"; cat err; grep -E 'min_lr|warmup' ft/config.toml; fi
check "resume at max_iters" "$GPT" train --resume ft
checks=$((checks + 1))
if grep -qx 'nothing left to do: run is at step 20 = max_iters 20; raise --max_iters to continue' err; then
    pass "resume at max_iters says there is nothing left to do"
else fail "resume at max_iters:"; cat err; fi
expect_error "explicit min_lr above lr" 1 "min_lr must be in [0, lr], got 0.01" -- \
    "$GPT" train "${TINY[@]}" --data tiny.txt --out_dir bad_min_lr --min_lr 0.01
mkdir -p hf && : > hf/config.json && : > hf/model.safetensors
expect_error "init_from a Hugging Face folder" 1 "not a checkpoint; convert it first: gpt import hf hf.h5" -- \
    "$GPT" train --init_from hf --data tiny.txt --out_dir from_hf
expect_error "init_from a missing path" 1 "nothing_here: no such checkpoint" -- \
    "$GPT" train --init_from nothing_here --data tiny.txt --out_dir from_missing
checks=$((checks + 1))
if ! "$GPT" train --help | grep -q '(default false) (default false)'; then pass "--overwrite's default once"
else fail "--help repeats a default"; fi

finish
