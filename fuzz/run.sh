#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan + libFuzzer) and runs each for a bounded time.
# Not part of CI. Needs clang and Debian's libclang-rt-14-dev (apt-get install -y clang libclang-rt-14-dev).
#   bash fuzz/run.sh [SECONDS_PER_TARGET=60] [TARGETS...]
#   targets: tokenizer token_file checkpoint config_metrics safetensors gpt2_tokenizer
# The libraries are built once into build-fuzz/ (CMake, clang, -fsanitize=fuzzer-no-link); crashes are
# written to fuzz/crashes/<target>/, the corpora to build-fuzz/corpus/<target>/. A summary line per
# target (executions, crashes) is printed at the end and appended to build-fuzz/summary.txt.
set -uo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(tokenizer token_file checkpoint config_metrics safetensors gpt2_tokenizer)
build=build-fuzz
export CC=clang CXX=clang++
flags="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g -O1"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGPT_NATIVE=OFF -DGPT_BUILD_TESTS=OFF -DGPT_MPI=OFF \
      -DCMAKE_C_FLAGS="$flags" -DCMAKE_CXX_FLAGS="$flags" > /dev/null || exit 1
libs=()
for target in "${targets[@]}"; do
    case $target in
        tokenizer|token_file|gpt2_tokenizer) libs+=(gpt_data gpt_common) ;;
        checkpoint) libs+=(gpt_train) ;;
        config_metrics) libs+=(gpt_report) ;;
        safetensors) libs+=(gpt_interop) ;;
        *) echo "unknown target $target (tokenizer token_file checkpoint config_metrics safetensors gpt2_tokenizer)"; exit 2 ;;
    esac
done
cmake --build "$build" -j"$(nproc)" --target $(printf '%s\n' "${libs[@]}" | sort -u) > "$build/build.log" 2>&1 ||
    { tail -20 "$build/build.log"; exit 1; }

hdf5_include=$(pkg-config --cflags hdf5 2>/dev/null || echo -I/usr/include/hdf5/serial)
hdf5_lib=$(pkg-config --libs hdf5 2>/dev/null || echo "-L/usr/lib/x86_64-linux-gnu/hdf5/serial -lhdf5")
# The static libraries in dependency order (CMakeLists.txt: gpt_layer), with what they need from the system:
# data → PCRE2 (GPT-2's pre-tokenizer), io → HDF5, autograd → OpenBLAS; report and data use nlohmann-json
# (header-only).
pcre2_lib=$(pkg-config --libs libpcre2-8 2>/dev/null || echo -lpcre2-8)
link_data="$build/libgpt_data.a $build/libgpt_common.a $pcre2_lib -fopenmp"
link_train="$build/libgpt_train.a $build/libgpt_checkpoint.a $build/libgpt_evaluate.a $build/libgpt_generate.a $build/libgpt_optim.a \
  $build/libgpt_nn.a $build/libgpt_autograd.a $build/libgpt_data.a $build/libgpt_io.a $build/libgpt_dist.a $build/libgpt_common.a \
  $hdf5_lib $pcre2_lib /usr/lib/x86_64-linux-gnu/openblas-openmp/libopenblas.so -fopenmp"
link_report="$build/libgpt_report.a $link_train"
link_interop="$build/libgpt_interop.a $link_train"

mkdir -p "$build/corpus" fuzz/crashes
: > "$build/summary.txt.new"
for target in "${targets[@]}"; do
    case $target in checkpoint) link=$link_train ;; config_metrics) link=$link_report ;; safetensors) link=$link_interop ;;
        *) link=$link_data ;; esac
    clang++ -std=c++20 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -g -O1 -I. $hdf5_include \
        -isystem /usr/include/x86_64-linux-gnu/openblas-openmp "fuzz/fuzz_$target.cpp" $link -o "$build/fuzz_$target" ||
        { echo "$target: build failed"; continue; }
    corpus="$build/corpus/$target"
    mkdir -p "$corpus" "fuzz/crashes/$target"
    if [ "$target" = checkpoint ] && [ -z "$(ls -A "$corpus")" ]; then
        # seed: a real, small checkpoint (1 layer, n_embd 8, 5 KB of text)
        head -c 5000 /usr/share/games/fortunes/fortunes > "$build/seed.txt" 2>/dev/null ||
            seq 1 2000 | tr '\n' ' ' > "$build/seed.txt"
        # build/gpt (the ordinary build) if there is one, else the sanitized one in build-fuzz/
        gpt=build/gpt
        [ -x "$gpt" ] || { gpt=$build/gpt; cmake --build "$build" -j"$(nproc)" --target gpt >> "$build/build.log" 2>&1; }
        ASAN_OPTIONS=detect_leaks=0 "$gpt" train --data "$build/seed.txt" --out_dir "$build/seed_run" --n_layer 1 --n_head 2 --n_embd 8 \
            --block_size 8 --batch_size 2 --max_iters 1 --eval_iters 1 --sample_tokens 0 --threads 1 > /dev/null 2>&1
        cp "$build/seed_run/ckpt_best.h5" "$corpus/seed_weights.h5" 2>/dev/null
        cp "$build/seed_run/ckpt.h5" "$corpus/seed_full.h5"
    fi
    if [ "$target" = safetensors ] && [ -z "$(ls -A "$corpus")" ]; then
        # seed: a small valid file (2 tensors, F32 and F16)
        python3 - "$corpus/seed.safetensors" <<'PY'
import json, struct, sys
header = json.dumps({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                     "b": {"dtype": "F16", "shape": [1, 2], "data_offsets": [8, 12]}}).encode()
data = struct.pack("<2f", 1.0, 2.0) + struct.pack("<2e", 1.0, 2.0)
open(sys.argv[1], "wb").write(struct.pack("<Q", len(header)) + header + data)
PY
    fi
    if [ "$target" = gpt2_tokenizer ] && [ -z "$(ls -A "$corpus")" ]; then
        # seed: encoder.json of the 256 bytes + 2 merges + <|endoftext|>, NUL, vocab.bpe
        python3 - "$corpus/seed" <<'PY'
import sys
bs = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
cs, n = bs[:], 0
for b in range(256):
    if b not in bs: bs.append(b); cs.append(256 + n); n += 1
byte = {b: chr(c) for b, c in zip(bs, cs)}
vocab = {byte[b]: i for i, b in enumerate(bs)}
vocab["he"] = 256; vocab["ll"] = 257; vocab["<|endoftext|>"] = 258
import json
open(sys.argv[1], "wb").write(json.dumps(vocab).encode() + b"\0#version: 0.2\nh e\nl l\n")
PY
    fi
    if [ "$target" = config_metrics ] && [ -z "$(ls -A "$corpus")" ]; then
        # seeds: the shipped configs, and metrics lines as gpt train writes them (and with the per-tensor fields)
        cp configs/*.toml "$corpus/"
        printf '%s\n' '{"step": 0, "tokens_seen": 96, "train_loss": 4.17, "val_loss": 4.18, "lr": 0.0, "grad_norm": 1.5, "tokens_per_s": 2000.5, "elapsed_s": 0.05}' \
            '{"step": 10, "tokens_seen": 1056, "train_loss": 3.9, "val_loss": null, "lr": 1e-4, "grad_norm": 0.7, "tokens_per_s": 2100, "elapsed_s": 0.5}' \
            > "$corpus/seed_metrics.jsonl"
        printf '%s\n' '{"step": 20, "train_loss": 3.5, "grad_norms": {"wte": 0.1, "h.0.attn": 0.2}, "update_ratios": {"wte": 1e-3}}' \
            > "$corpus/seed_metrics_tensors.jsonl"
    fi
    # HDF5 keeps global state; leaks are off for the targets that load HDF5 (libhdf5's free lists and OpenMP's
    # pool are reported as leaks). config_metrics touches neither, so leaks are findings there.
    leaks=0
    [ "$target" = config_metrics ] && leaks=1
    ASAN_OPTIONS=detect_leaks=$leaks OMP_NUM_THREADS=1 "$build/fuzz_$target" "$corpus" -max_total_time="$seconds" \
        -timeout=10 -rss_limit_mb=2048 -max_len=$(case $target in checkpoint) echo 200000 ;; gpt2_tokenizer) echo 16384 ;; *) echo 4096 ;; esac) \
        -artifact_prefix="fuzz/crashes/$target/" -print_final_stats=1 > "$build/fuzz_$target.log" 2>&1
    rc=$?
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$build/fuzz_$target.log" | grep -o '[0-9]*$')
    crashes=$(ls "fuzz/crashes/$target" | grep -c . )
    line="$(date -u +%F) $target: ${seconds}s, ${runs:-?} executions, exit $rc, $crashes saved crash input(s)"
    echo "$line" | tee -a "$build/summary.txt.new"
    [ "$rc" -ne 0 ] && grep -m3 -E 'ERROR|SUMMARY|#0 |#1 |#2 ' "$build/fuzz_$target.log"
done
cat "$build/summary.txt.new" >> "$build/summary.txt"
