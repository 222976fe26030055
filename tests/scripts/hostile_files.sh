#!/usr/bin/env bash
# Hostile or damaged files, by class (docs/reliability.md, "Files are not trusted"): each case asserts
# the exit code and the one error line naming the culprit, for every command that reads that kind of
# file. Needs h5py to forge checkpoints (a failure under GPT_REQUIRE_TORCH=1, else a skip that says so).
source "$(dirname "$0")/failure_lib.bash" "$@"
source_dir=$(cd "$(dirname "$0")/../.." && pwd)
cd "$WORK"
make_corpus tiny.txt
"$GPT" train "${TINY[@]}" --data tiny.txt --out_dir run --max_iters 3 --report_every 0 > train.log 2>&1 ||
    { cat train.log; fail "training"; finish; exit 1; }

# Every command that loads a checkpoint, as "NAME|COMMAND" with CK standing for the file.
loaders=("sample|$GPT sample --checkpoint CK --max_new_tokens 4 --threads 1"
         "eval|$GPT eval --checkpoint CK --data tiny.txt --threads 1"
         "report|$GPT report CK"
         "resume|$GPT train --resume CK --max_iters 5"
         "init_from|$GPT train --init_from CK --data tiny.txt --out_dir INIT --max_iters 1 --sample_tokens 0")
n=0
each_loader() {  # each_loader CASE PATTERN FILE: every loader refuses FILE (a fresh run folder per try)
    local case=$1 pattern=$2 file=$3 entry name command
    for entry in "${loaders[@]}"; do
        name=${entry%%|*}; command=${entry#*|}
        n=$((n + 1))
        mkdir -p "try$n" && cp "$file" "try$n/ckpt.h5" 2>/dev/null || ln -sf "$(realpath "$file")" "try$n/ckpt.h5"
        command=${command//CK/try$n/ckpt.h5}
        command=${command//INIT/init$n}
        # shellcheck disable=SC2086
        expect_error "$case ($name)" 1 "$pattern" -- $command
    done
}

# --- special files where a checkpoint is expected -------------------------------------------------------
mkfifo pipe.h5
for target in pipe.h5 /dev/zero /dev/urandom; do
    for entry in "${loaders[@]}"; do
        name=${entry%%|*}; command=${entry#*|}; command=${command//CK/$target}; command=${command//INIT/init_special}
        # shellcheck disable=SC2086
        expect_error "$target as a checkpoint ($name)" 1 "not a regular file" -- timeout 10 $command
    done
done
# --- special files for every other file option ----------------------------------------------------------
for target in pipe.h5 /dev/zero; do
    expect_error "$target as --config" 2 "not a regular file" -- timeout 10 "$GPT" train --config "$target"
    expect_error "$target as --prompt_file" 1 "not a regular file" -- \
        timeout 10 "$GPT" sample --checkpoint run --prompt_file "$target"
    expect_error "$target as --data (train)" 1 "neither a regular file nor a directory" -- \
        timeout 10 "$GPT" train "${TINY[@]}" --data "$target" --out_dir special_data --max_iters 1
    expect_error "$target as --data (eval)" 1 "neither a regular file nor a directory" -- \
        timeout 10 "$GPT" eval --checkpoint run --data "$target"
done
mkdir -p corpus_dir && cp tiny.txt corpus_dir/a.txt && mkfifo corpus_dir/b.txt
expect_error "a FIFO inside a corpus folder" 1 "corpus_dir/b.txt: is not a regular file" -- \
    timeout 10 "$GPT" train "${TINY[@]}" --data corpus_dir --out_dir fifo_member --max_iters 1
head -c 2000000 /dev/zero | tr '\0' '#' > huge.toml
expect_error "a 2 MB config file" 2 "more than the 1048576 a config file may have" -- "$GPT" train --config huge.toml

# --- forged checkpoints (h5py) ----------------------------------------------------------------------------
if ! "$PYTHON" -c 'import h5py, numpy' 2>/dev/null; then
    if [ "${GPT_REQUIRE_TORCH:-0}" = 1 ]; then fail "h5py cannot be imported by $PYTHON (GPT_REQUIRE_TORCH=1)"
    else echo "skipped: forged checkpoints need h5py under $PYTHON"; fi
    finish; exit
fi
forge() {  # forge OUT PYTHON_STATEMENTS (f is the open file)
    cp run/ckpt.h5 "$1"
    "$PYTHON" -c "import h5py, numpy as np
f = h5py.File('$1', 'r+')
$2
f.close()" || fail "forging $1"
}
forge layers.h5 "f['config'].attrs['n_layer'] = 60000"
each_loader "n_layer 60000 in a small file" "/config describes a model of" layers.h5
forge layers_max.h5 "f['config'].attrs['n_layer'] = 100000"
each_loader "n_layer 100000" "n_layer 100000 is larger than 65536" layers_max.h5
forge embd.h5 "f['config'].attrs['n_embd'] = 1 << 40"
each_loader "n_embd 2^40" "n_embd 1099511627776 is larger than" embd.h5
forge nan.h5 "f['model/wte.weight'][3, 1] = np.nan"
each_loader "a NaN weight" "parameter wte.weight holds a non-finite value" nan.h5
forge inf.h5 "f['model/h.0.attn.c_proj.weight'][0, 0] = np.inf"
each_loader "an Inf weight" "parameter h.0.attn.c_proj.weight holds a non-finite value" inf.h5
forge rng.h5 "f['train/dropout_rng'][...] = 0"
mkdir -p rng_run && cp rng.h5 rng_run/ckpt.h5
expect_error "all-zero dropout generator (resume)" 1 "/train/dropout_rng: the generator state is all zero" -- \
    "$GPT" train --resume rng_run --max_iters 5
forge sampler.h5 "f['train/sampler_state'][...] = 0"
mkdir -p sampler_run && cp sampler.h5 sampler_run/ckpt.h5
expect_error "all-zero sampler state (resume)" 1 "/train/sampler_state: the generator state is all zero" -- \
    "$GPT" train --resume sampler_run --max_iters 5
forge step.h5 "f['optimizer'].attrs['step'] = 7"
mkdir -p step_run && cp step.h5 step_run/ckpt.h5
expect_error "AdamW step differs from the step count (resume)" 1 "step_run/ckpt.h5: /optimizer step 7 differs" -- \
    "$GPT" train --resume step_run --max_iters 5

# --- a token file with an id the vocabulary does not have: refused when opened, naming the file ----------
mkdir -p badtok && cp run/ckpt.h5 run/config.toml badtok/ && cp run/val.bin badtok/
"$PYTHON" - run/train.bin badtok/train.bin <<'PY' || fail "forging a token file"
import struct, sys
data = bytearray(open(sys.argv[1], "rb").read())
vocab = struct.unpack_from("<Q", data, 24)[0]
dtype = struct.unpack_from("<I", data, 12)[0]
struct.pack_into("<H" if dtype == 2 else "<I", data, 32 + 5 * dtype, vocab)  # id 5 := vocab_size
open(sys.argv[2], "wb").write(data)
PY
expect_error "token id >= vocab_size (resume)" 1 "badtok/train.bin: id" -- "$GPT" train --resume badtok --max_iters 5
grep -qF "at position 5 is not below the header's vocab_size" "$WORK/stderr" || fail "token file message lacks the position"

# --- integers out of range are refused, never wrapped or clamped ---------------------------------------------
expect_error "--threads 4294967297" 1 "threads: 4294967297 is outside 0..4096" -- \
    "$GPT" train --data tiny.txt --out_dir threads_big --max_iters 1 --threads 4294967297
expect_error "n_layer 2^62 (a parameter count that would overflow)" 1 "n_layer 4611686018427387904 is larger than 65536" -- \
    "$GPT" train --data tiny.txt --out_dir layers_big --max_iters 1 --n_layer 4611686018427387904
# --- inputs the checkpoint fuzzer found (fuzz/crashes/checkpoint): every loader ends with one error line ------
for crash in "$source_dir"/fuzz/crashes/checkpoint/crash-*; do
    [ -e "$crash" ] || { fail "no saved fuzz inputs found beside the tests"; break; }
    each_loader "fuzzer input $(basename "$crash" | cut -c1-14)" "try" "$crash"
done
finish
