#!/usr/bin/env bash
# The 16-core run of issue 19, prepared here and run there in one go (the device machine has PyTorch 2.x
# as python3 but none of this project's Debian libraries, and no network).
#
# Here:   bash bench/device.sh bundle DIR
#   builds gpt_bench with -DGPT_NATIVE=OFF (portable flags: the AVX-512 and AVX2 kernels are still chosen
#   at run time) in build-device/, and copies it, the shared libraries it needs (OpenBLAS, gfortran,
#   quadmath, gomp), the corpus and bench/*.py into DIR (list DIR in .git/info/exclude and carry it).
# There: bash bench/device.sh run DIR OUT
#   every measurement, logged under OUT: project vs PyTorch eager and torch.compile, baby and small,
#   1, 2, 4, 8 and 16 threads, the native (AVX-512) and the AVX2 paths, one row each, alternating.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
mode="${1:?usage: bench/device.sh bundle DIR | run DIR OUT}"
dir="${2:?usage: bench/device.sh bundle DIR | run DIR OUT}"
case "$mode" in
bundle)
    cmake -S "$here/.." -B "$here/../build-device" -DCMAKE_BUILD_TYPE=Release -DGPT_NATIVE=OFF > /dev/null
    cmake --build "$here/../build-device" -j"$(nproc)" --target gpt_bench
    mkdir -p "$dir"
    cp "$here/../build-device/gpt_bench" "$here/run.py" "$here/reference_train.py" "$dir/"
    for lib in libopenblas.so.0 libgfortran.so.5 libquadmath.so.0 libgomp.so.1; do
        path="$(ldd "$dir/gpt_bench" | awk -v l="$lib" '$1 == l {print $3}')"
        [ -n "$path" ] && cp -L "$path" "$dir/"
    done
    cp /usr/share/games/fortunes/computers "$dir/corpus.txt"
    echo "bundle in $dir: $(ls "$dir" | tr '\n' ' ')"
    ;;
run)
    out="${3:?usage: bench/device.sh run DIR OUT}"
    mkdir -p "$out"
    export LD_LIBRARY_PATH="$dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    { lscpu; python3 -c 'import torch; print("torch", torch.__version__, torch.backends.cpu.get_cpu_capability())'; } \
        > "$out/machine.txt" 2>&1 || true
    for kernels in native avx2; do
        python3 "$dir/run.py" "$dir" --python "$(command -v python3)" --data "$dir/corpus.txt" --configs baby,small \
            --threads 1,2,4,8,16 --kernels "$kernels" --compile > "$out/table_$kernels.md" 2> "$out/log_$kernels.txt" || true
    done
    ;;
*) echo "usage: bench/device.sh bundle DIR | run DIR OUT" >&2; exit 2 ;;
esac
