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

bench() {  # threads [mode [teams]]: gpt_bench's JSON line; under the shim when a mode is given
    local threads=$1 mode=${2:-} teams=${3:-}
    local cmd=("$build/gpt_bench" train --config baby --steps 4 --warmup 1 --threads "$threads" --data "$src/README.md")
    if [ -z "$mode" ]; then
        "${cmd[@]}"
    else
        GPT_OMP_SHIM=$mode GPT_OMP_SHIM_TEAMS=$teams GPT_OMP_SHIM_OUT="$scratch/${mode}_$threads.json" \
            LD_PRELOAD="$scratch/shim.so" "${cmd[@]}"
    fi
}
bench 1 > "$scratch/plain.txt"
bench 1 emulate 1,2,5,16 > "$scratch/emulate_1.txt"  # one step at each team size, in turn
bench 5 emulate > "$scratch/emulate_5.txt"           # the team size gpt_bench asks for
bench 2 count > "$scratch/count_2.txt"

"$python" - "$scratch" <<'EOF'
import json, os, sys
d = sys.argv[1]
line = lambda name: json.loads(open(os.path.join(d, name)).read().strip().splitlines()[-1])
shim = lambda name: json.load(open(os.path.join(d, name)))
plain = line("plain.txt")["last_loss_exact"]
for name in ("emulate_1.txt", "emulate_5.txt", "count_2.txt"):
    got = line(name)["last_loss_exact"]
    assert got == plain, f"{name}: loss {got} != {plain} on one real thread"
assert line("emulate_5.txt")["threads"] == 5, "gpt_bench did not see the 5 threads it asked for"
turns = {t["threads"]: t for t in shim("emulate_1.json")["teams"]}
assert sorted(turns) == [1, 2, 5, 16] and all(t["steps"] == 1 for t in turns.values()), turns.keys()
one, two, sixteen = turns[1], turns[2], turns[16]
five = shim("emulate_5.json")["teams"][0]
real_two = shim("count_2.json")["teams"][0]
assert five["threads"] == 5 and five["steps"] == 4 and len(shim("emulate_5.json")["windows"]) == 4, five["steps"]
assert real_two["threads"] == 2 and real_two["steps"] == 4
assert one["regions"] > 0 and one["active_regions"] == 0, "at one thread no region may be counted parallel"
assert sixteen["active_regions"] > 0 and sixteen["barriers"] > 0, sixteen
# on 16 cores the parallel regions take less than their work on one, and no less than a 16th of it
m = sixteen["median"]
assert m["work_ms"] / 16 <= m["predicted_ms"] < m["work_ms"], m
for key in ("regions", "active_regions", "barriers"):
    assert two[key] == real_two[key] == five[key], \
        f"{key}: emulated 2: {two[key]}, 5: {five[key]}, libgomp 2: {real_two[key]}"
print(f"omp_shim: same loss with emulated teams of 1, 2, 5, 16 threads and 2 real ones; {two['regions']:.0f} regions "
      f"({two['active_regions']:.0f} parallel), {two['barriers']:.0f} barriers per step as libgomp counts: ok")
EOF
