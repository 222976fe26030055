#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan + libFuzzer) and runs each for a bounded time.
# Not part of CI. Needs clang and Debian's libclang-rt-14-dev (apt-get install -y clang libclang-rt-14-dev).
#   bash fuzz/run.sh [SECONDS_PER_TARGET=60] [TARGETS...]   targets: tokenizer token_file checkpoint
# The libraries are built once into build-fuzz/ (CMake, clang, -fsanitize=fuzzer-no-link); crashes are
# written to fuzz/crashes/<target>/, the corpora to build-fuzz/corpus/<target>/. A summary line per
# target (executions, crashes) is printed at the end and appended to build-fuzz/summary.txt.
set -uo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(tokenizer token_file checkpoint)
build=build-fuzz
export CC=clang CXX=clang++
flags="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g -O1"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGPT_NATIVE=OFF -DGPT_BUILD_TESTS=OFF \
      -DCMAKE_C_FLAGS="$flags" -DCMAKE_CXX_FLAGS="$flags" > /dev/null || exit 1
libs=()
for target in "${targets[@]}"; do
    case $target in tokenizer|token_file) libs+=(gpt_data) ;; checkpoint) libs+=(gpt_train) ;; esac
done
cmake --build "$build" -j"$(nproc)" --target $(printf '%s\n' "${libs[@]}" | sort -u) > "$build/build.log" 2>&1 ||
    { tail -20 "$build/build.log"; exit 1; }

hdf5_include=$(pkg-config --cflags hdf5 2>/dev/null || echo -I/usr/include/hdf5/serial)
hdf5_lib=$(pkg-config --libs hdf5 2>/dev/null || echo "-L/usr/lib/x86_64-linux-gnu/hdf5/serial -lhdf5")
link_data="$build/libgpt_data.a -fopenmp"
link_train="$build/libgpt_train.a $build/libgpt_generate.a $build/libgpt_optim.a $build/libgpt_nn.a $build/libgpt_autograd.a $build/libgpt_data.a \
  $build/libgpt_io.a $hdf5_lib /usr/lib/x86_64-linux-gnu/openblas-openmp/libopenblas.so -fopenmp"

mkdir -p "$build/corpus" fuzz/crashes
: > "$build/summary.txt.new"
for target in "${targets[@]}"; do
    link=$link_data
    [ "$target" = checkpoint ] && link=$link_train
    clang++ -std=c++20 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -g -O1 -I. $hdf5_include \
        -isystem /usr/include/x86_64-linux-gnu/openblas-openmp "fuzz/fuzz_$target.cpp" $link -o "$build/fuzz_$target" ||
        { echo "$target: build failed"; continue; }
    corpus="$build/corpus/$target"
    mkdir -p "$corpus" "fuzz/crashes/$target"
    if [ "$target" = checkpoint ] && [ -z "$(ls -A "$corpus")" ]; then
        # seed: a real, small checkpoint (1 layer, n_embd 8, 5 KB of text)
        head -c 5000 /usr/share/games/fortunes/fortunes > "$build/seed.txt" 2>/dev/null ||
            seq 1 2000 | tr '\n' ' ' > "$build/seed.txt"
        [ -x build/gpt ] || cmake --build build --target gpt > /dev/null
        build/gpt train --data "$build/seed.txt" --out_dir "$build/seed_run" --n_layer 1 --n_head 2 --n_embd 8 \
            --block_size 8 --batch_size 2 --max_iters 1 --eval_iters 1 --sample_tokens 0 --threads 1 > /dev/null 2>&1
        cp "$build/seed_run/ckpt_best.h5" "$corpus/seed_weights.h5" 2>/dev/null
        cp "$build/seed_run/ckpt.h5" "$corpus/seed_full.h5"
    fi
    # HDF5 keeps global state; leaks are off (libhdf5's free lists and OpenMP's pool are reported as leaks).
    ASAN_OPTIONS=detect_leaks=0 OMP_NUM_THREADS=1 "$build/fuzz_$target" "$corpus" -max_total_time="$seconds" \
        -timeout=10 -rss_limit_mb=2048 -max_len=$([ "$target" = checkpoint ] && echo 200000 || echo 4096) \
        -artifact_prefix="fuzz/crashes/$target/" -print_final_stats=1 > "$build/fuzz_$target.log" 2>&1
    rc=$?
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$build/fuzz_$target.log" | grep -o '[0-9]*$')
    crashes=$(ls "fuzz/crashes/$target" | grep -c . )
    line="$(date -u +%F) $target: ${seconds}s, ${runs:-?} executions, exit $rc, $crashes saved crash input(s)"
    echo "$line" | tee -a "$build/summary.txt.new"
    [ "$rc" -ne 0 ] && grep -m3 -E 'ERROR|SUMMARY|#0 |#1 |#2 ' "$build/fuzz_$target.log"
done
cat "$build/summary.txt.new" >> "$build/summary.txt"
