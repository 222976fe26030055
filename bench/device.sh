#!/usr/bin/env bash
# The 16-core run of issue 19, prepared here and run there in one go (the device machine has PyTorch 2.x
# as python3 but none of this project's Debian libraries, and no network).
#
# Here:   bash bench/device.sh bundle DIR
#   builds gpt_bench with -DGPT_NATIVE=OFF (portable flags: the AVX-512 and AVX2 kernels are still chosen
#   at run time) in build-device/, and copies it, every shared library it needs but glibc's, the corpus,
#   bench/*.py and the scaling tools (bench/omp_shim.c and bench/omp_overhead.c, compiled here: there is
#   no compiler there) into DIR (list DIR in .git/info/exclude and carry it).
# There: bash bench/device.sh run DIR OUT
#   every measurement, logged under OUT:
#   1. scaling (issue 30): bench/amdahl.py --measure, baby, small and gpt2: gpt_bench on 1, 2, 4, 8 and 16
#      real threads (measured efficiency) beside the one-core prediction (emulated teams), in
#      OUT/amdahl.md and OUT/amdahl.json;
#   2. project vs PyTorch eager and torch.compile, baby and small, 1, 2, 4, 8 and 16 threads, the native
#      (AVX-512) and the AVX2 paths, one row each, alternating.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
mode="${1:?usage: bench/device.sh bundle DIR | run DIR OUT}"
dir="${2:?usage: bench/device.sh bundle DIR | run DIR OUT}"
case "$mode" in
bundle)
    cmake -S "$here/.." -B "$here/../build-device" -DCMAKE_BUILD_TYPE=Release -DGPT_NATIVE=OFF > /dev/null
    cmake --build "$here/../build-device" -j"$(nproc)" --target gpt_bench
    mkdir -p "$dir"
    mkdir -p "$dir/lib"
    cp "$here/../build-device/gpt_bench" "$dir/gpt_bench.bin"
    nm -C --defined-only "$dir/gpt_bench.bin" > "$dir/gpt_bench.syms"  # amdahl.py's region names
    strip "$dir/gpt_bench.bin"  # the bundle must stay under the 64 MiB a device call carries (~62 MB)
    cp "$here/run.py" "$here/reference_train.py" "$here/amdahl.py" "$dir/"
    cc -O2 -shared -fPIC -o "$dir/omp_shim.so" "$here/omp_shim.c" -ldl
    cc -O2 -fopenmp -o "$dir/omp_overhead.bin" "$here/omp_overhead.c"
    # Every shared library it loads except glibc's own (the machine's loader must match those): OpenBLAS,
    # gfortran, quadmath, gomp, HDF5 and what HDF5 pulls in, PCRE2, libstdc++.
    ldd "$dir/gpt_bench.bin" | awk '$3 ~ /^\// {print $1, $3}' | while read -r name path; do
        case "$name" in libc.so*|libm.so*|libpthread.so*|libdl.so*|librt.so*|libresolv.so*|ld-linux*) ;;
            *) cp -L "$path" "$dir/lib/$name" ;;
        esac
    done
    # run.py starts "gpt_bench" in the bundle: a wrapper that points only it (not PyTorch) at lib/.
    printf '#!/bin/sh\nhere="$(dirname "$0")"\nLD_LIBRARY_PATH="$here/lib" exec "$here/gpt_bench.bin" "$@"\n' > "$dir/gpt_bench"
    printf '#!/bin/sh\nhere="$(dirname "$0")"\nLD_LIBRARY_PATH="$here/lib" exec "$here/omp_overhead.bin" "$@"\n' > "$dir/omp_overhead"
    chmod +x "$dir/gpt_bench" "$dir/omp_overhead"
    cp /usr/share/games/fortunes/computers "$dir/corpus.txt"
    echo "bundle in $dir: $(ls "$dir" | tr '\n' ' ')"
    ;;
run)
    out="${3:?usage: bench/device.sh run DIR OUT}"
    mkdir -p "$out"
    { lscpu; python3 -c 'import torch; print("torch", torch.__version__, torch.backends.cpu.get_cpu_capability())'; } \
        > "$out/machine.txt" 2>&1 || true
    # The prediction from one core and the measurement on 1–16 (amdahl.py finds the prebuilt shim and
    # probe in DIR: no compiler there).
    CC=/nonexistent python3 "$dir/amdahl.py" "$dir" --configs baby,small,gpt2 --threads 2,4,8,16 --measure \
        --data "$dir/corpus.txt" --json "$out/amdahl.json" > "$out/amdahl.md" 2> "$out/amdahl_log.txt" || true
    for kernels in native avx2; do
        python3 "$dir/run.py" "$dir" --python "$(command -v python3)" --data "$dir/corpus.txt" --configs baby,small \
            --threads 1,2,4,8,16 --kernels "$kernels" --compile > "$out/table_$kernels.md" 2> "$out/log_$kernels.txt" || true
    done
    ;;
*) echo "usage: bench/device.sh bundle DIR | run DIR OUT" >&2; exit 2 ;;
esac
