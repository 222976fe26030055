#!/usr/bin/env bash
# Damaged and foreign checkpoints: `gpt sample` (and `gpt train --resume`) refuse each with one "error:"
# line and exit code 1; none crashes, none prints HDF5's error stack, none loads wrong weights.
source "$(dirname "$0")/failure_lib.bash" "$@"
cd "$WORK"
make_corpus tiny.txt
"$GPT" train "${TINY[@]}" --data tiny.txt --out_dir run --max_iters 3 > train.log 2>&1 || { cat train.log; fail "training"; finish; exit 1; }
CKPT=run/ckpt.h5
sample() { "$GPT" sample --checkpoint "$1" --prompt "The" --max_new_tokens 16 --temperature 0 --threads 1; }
sample "$CKPT" > reference.txt 2>/dev/null || fail "sampling from the intact checkpoint"

# byte offset (in the file) of the first chunk of a dataset, from h5py
chunk_offset() {
    "$PYTHON" -c "import h5py,sys; f=h5py.File(sys.argv[1],'r'); print(f[sys.argv[2]].id.get_chunk_info(0).byte_offset)" "$CKPT" "$1"
}
flip() {  # flip FILE OFFSET: xor one byte with 0x5a, in place
    local byte
    byte=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
    printf "$(printf '\\%03o' $(( byte ^ 0x5a )))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# Fletcher32: a flipped byte inside the weights' data.
if offset=$(chunk_offset model/wte.weight 2>/dev/null); then
    cp "$CKPT" data_flip.h5; flip data_flip.h5 $((offset + 37))
    expect_error "byte flipped in /model/wte.weight" 1 "dataset /model/wte.weight: checksum mismatch" -- sample data_flip.h5
    offset=$(chunk_offset optimizer/v/wte.weight)
    mkdir -p resume_flip && cp "$CKPT" resume_flip/ckpt.h5 && cp run/*.bin resume_flip/ 2>/dev/null
    flip resume_flip/ckpt.h5 $((offset + 5))
    expect_error "byte flipped in /optimizer/v (resume)" 1 "dataset /optimizer/v/wte.weight: checksum mismatch" -- \
        "$GPT" train --resume resume_flip --max_iters 5
elif [ "${GPT_REQUIRE_TORCH:-0}" = 1 ]; then
    fail "chunk offsets need h5py, which $PYTHON cannot import (GPT_REQUIRE_TORCH=1)"
else
    echo "skipped: chunk offsets need h5py under $PYTHON"
fi
# Checksummed metadata: the superblock and the first object header.
cp "$CKPT" super_flip.h5; flip super_flip.h5 20
expect_error "byte flipped in the superblock" 1 "super_flip.h5: file: cannot open" -- sample super_flip.h5
cp "$CKPT" header_flip.h5; flip header_flip.h5 60
expect_error "byte flipped in the root object header" 1 "header_flip.h5: " -- sample header_flip.h5

# A byte flipped at 48 places spread over the whole file: refused, or the same greedy text (unused byte).
size=$(stat -c %s "$CKPT")
refused=0; same=0
for i in $(seq 0 47); do
    offset=$(( (size - 1) * i / 47 ))
    cp "$CKPT" sweep.h5; flip sweep.h5 "$offset"
    sample sweep.h5 > sweep.txt 2> sweep.err
    rc=$?
    if [ "$rc" -eq 1 ] && [ "$(grep -c '^error:' sweep.err)" -eq 1 ]; then refused=$((refused + 1))
    elif [ "$rc" -eq 0 ] && cmp -s sweep.txt reference.txt; then same=$((same + 1))
    else fail "flip at byte $offset of $size: rc $rc, $(tail -n 1 sweep.err)"; fi
done
checks=$((checks + 1))
pass "48 flips over $size bytes: $refused refused, $same harmless (no wrong load, no crash)"

# Truncated, random bytes (with and without the HDF5 signature).
head -c $((size / 2)) "$CKPT" > truncated.h5
expect_error "truncated checkpoint" 1 "truncated.h5: " -- sample truncated.h5
head -c 100000 /dev/urandom > random.h5
expect_error "random bytes" 1 "random.h5: not an HDF5 file" -- sample random.h5
{ head -c 8 "$CKPT"; head -c 100000 /dev/urandom; } > random_signed.h5
expect_error "random bytes after an HDF5 signature" 1 "random_signed.h5: " -- sample random_signed.h5
: > empty.h5
expect_error "empty file" 1 "empty.h5: not an HDF5 file" -- sample empty.h5

# Valid HDF5 that is not (or no longer) a checkpoint of this project: edited with h5py.
if "$PYTHON" -c "import h5py" 2>/dev/null; then
    edit() {  # edit OUT PYTHON-STATEMENTS (f is the open file)
        cp "$CKPT" "$1"
        "$PYTHON" -c "import h5py, numpy as np; f = h5py.File('$1', 'r+'); $2; f.close()"
    }
    "$PYTHON" -c "import h5py, numpy as np; f = h5py.File('foreign.h5', 'w'); f['x'] = np.arange(10)"
    expect_error "HDF5 file that is not a checkpoint" 1 "foreign.h5: not a checkpoint of this project" -- sample foreign.h5
    edit missing.h5 "del f['model/h.0.mlp.c_fc.weight']"
    expect_error "missing dataset" 1 "dataset /model/h.0.mlp.c_fc.weight is missing" -- sample missing.h5
    edit shape.h5 "w = f['model/ln_f.weight'][:]; del f['model/ln_f.weight']; f['model/ln_f.weight'] = np.concatenate([w, w])"
    expect_error "wrongly shaped dataset" 1 "/model/ln_f.weight" -- sample shape.h5
    edit dtype.h5 "w = f['model/ln_f.weight'][:]; del f['model/ln_f.weight']; f['model/ln_f.weight'] = w.astype(np.int32)"
    expect_error "dataset of the wrong type" 1 "/model/ln_f.weight" -- sample dtype.h5
    edit extra.h5 "f['model/h.9.extra'] = np.zeros(3, np.float32)"
    expect_error "unknown dataset" 1 "members but the configured model has" -- sample extra.h5
    edit version.h5 "f['meta'].attrs['format_version'] = np.int64(99)"
    expect_error "unknown format_version" 1 "format_version 99 is not supported" -- sample version.h5
    edit no_meta.h5 "del f['meta']"
    expect_error "no /meta" 1 "no /meta group" -- sample no_meta.h5
    edit vocab.h5 "f['config'].attrs['vocab_size'] = np.int64(f['config'].attrs['vocab_size'] + 1)"
    expect_error "tokenizer vocab differs from vocab_size" 1 "but the model's vocab_size is" -- sample vocab.h5
    edit bad_config.h5 "f['config'].attrs['n_head'] = np.int64(3)"
    expect_error "invalid /config" 1 "/config is invalid" -- sample bad_config.h5
    edit no_tokenizer.h5 "del f['tokenizer']"
    expect_error "no /tokenizer" 1 "no /tokenizer group" -- sample no_tokenizer.h5
    edit no_train.h5 "del f['train']"
    mkdir -p weights_only && mv no_train.h5 weights_only/ckpt.h5
    expect_error "resume from weights only" 1 "use --init_from" -- "$GPT" train --resume weights_only --max_iters 5
elif [ "${GPT_REQUIRE_TORCH:-0}" = 1 ]; then
    fail "h5py cannot be imported by $PYTHON (GPT_REQUIRE_TORCH=1)"
else
    echo "skipped: h5py cannot be imported by $PYTHON"
fi
finish
