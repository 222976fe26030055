#!/usr/bin/env bash
# bench/omp_shim.c, the LD_PRELOAD library behind bench/amdahl.py: a team of n threads emulated on one
# core must train to the same bits as one real thread (the project is deterministic for any thread
# count, and the emulation must not change what the program computes), and the regions and barriers it
# counts must be the ones libgomp runs (count mode at 2 real threads = emulation at 2).
set -euo pipefail
build=$1
python=${2:-python3}
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
if [ ! -x "$build/gpt_bench" ]; then
    echo "omp_shim: no gpt_bench in $build (GPT_BUILD_BENCH is off): skipped"
    exit 77
fi
if ! command -v "${CC:-cc}" > /dev/null; then
    echo "omp_shim: no C compiler: skipped"
    exit 77
fi
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
"${CC:-cc}" -O2 -shared -fPIC -o "$scratch/shim.so" "$src/bench/omp_shim.c" -ldl

bench() {  # threads [mode]: gpt_bench's JSON line; under the shim when a mode is given
    local threads=$1 mode=${2:-}
    local cmd=("$build/gpt_bench" train --config baby --steps 2 --warmup 1 --threads "$threads" --data "$src/README.md")
    if [ -z "$mode" ]; then
        "${cmd[@]}"
    else
        GPT_OMP_SHIM=$mode GPT_OMP_SHIM_OUT="$scratch/${mode}_$threads.json" LD_PRELOAD="$scratch/shim.so" "${cmd[@]}"
    fi
}
bench 1 > "$scratch/plain.txt"
for n in 1 2 5 16; do bench "$n" emulate > "$scratch/emulate_$n.txt"; done
bench 2 count > "$scratch/count.txt"

"$python" - "$scratch" <<'EOF'
import json, os, sys
d = sys.argv[1]
line = lambda name: json.loads(open(os.path.join(d, name)).read().strip().splitlines()[-1])
shim = lambda name: json.load(open(os.path.join(d, name)))
plain = line("plain.txt")["last_loss_exact"]
for n in (1, 2, 5, 16):
    got = line(f"emulate_{n}.txt")
    assert got["threads"] == n, f"gpt_bench saw {got['threads']} threads under emulation of {n}"
    assert got["last_loss_exact"] == plain, f"emulated {n} threads: loss {got['last_loss_exact']} != {plain}"
assert line("count.txt")["last_loss_exact"] == plain
one, two, sixteen, real_two = shim("emulate_1.json"), shim("emulate_2.json"), shim("emulate_16.json"), shim("count_2.json")
for r in (one, two, sixteen, real_two):
    assert r["steps"] == 2 and len(r["windows"]) == 2, r["steps"]
assert one["regions"] > 0 and one["active_regions"] == 0, "at one thread no region may be counted parallel"
assert sixteen["active_regions"] > 0 and sixteen["barriers"] > 0, sixteen
# on 16 cores the parallel regions take less than their work on one, and no less than a 16th of it
assert sixteen["work_ms"] / 16 <= sixteen["predicted_ms"] < sixteen["work_ms"], sixteen
for key in ("regions", "active_regions", "barriers"):
    assert two[key] == real_two[key], f"{key}: emulated {two[key]}, libgomp at 2 threads {real_two[key]}"
print(f"omp_shim: same loss at 1, 2, 5, 16 emulated threads; {two['regions']:.0f} regions "
      f"({two['active_regions']:.0f} parallel), {two['barriers']:.0f} barriers per step as libgomp counts: ok")
EOF
