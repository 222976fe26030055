"""The training step's scaling predicted from one core: parallel regions and barriers per step, serial
time, and the parallel efficiency to expect at 4, 8 and 16 threads, per config (issue 30).

usage: python3 bench/amdahl.py [BUILD_DIR (default build)] [--configs baby,small,gpt2] [--threads 4,8,16]
                               [--rounds baby:10,small:3,gpt2:3] [--warmup 1] [--data FILE]
                               [--perf] [--measure] [--json FILE]

How (bench/omp_shim.c, LD_PRELOAD into gpt_bench, which marks its measured steps):
  1. One gpt_bench process per config runs its teams *emulated* on one core (GPT_OMP_SHIM=emulate): 1
     thread, then each n, one step each, round after round, so that every thread count is measured in
     interleaved steps (medians over the rounds). At n, the program sees n threads (omp_get_max_threads()
     = n) and cuts its work as it would on n cores, while one real thread plays the team, each virtual
     thread's run between barriers timed in CPU time (other processes on a loaded machine do not count).
     Per step: T1, the 1-thread step, and its time outside every region; S(n), the time outside regions
     that run on more than one thread (regions whose `if` keeps them on one thread count as serial);
     W(n), the work inside them (the sum over virtual threads: work repeated per thread included); E(n),
     the time those regions take on n cores without overheads (Σ over barrier phases of the slowest
     thread); R(n) regions, B(n) barriers. The same steps on one real thread must end on the same loss
     bits (the project is bit-deterministic for any thread count), or the script stops.
  2. c(n), b(n): one empty region's fork/join and one barrier on this machine (bench/omp_overhead.c,
     median of 201 batches) for n up to the cores here; past that extrapolated as c(n) = c(m)·log2(n)/log2(m)
     from the largest measured m (libgomp wakes and joins its team through one shared counter; EPCC
     syncbench results for libgomp on 16–32-core x86 servers are a few µs per region, consistent with
     this). An assumption, stated in the output.
  Predicted step at n threads:
    Amdahl:          T(n) = S(n) + W(n)/n + R(n)·c(n) + B(n)·b(n)   (perfect balance)
    with imbalance:  T(n) = S(n) + E(n) + R(n)·c(n) + B(n)·b(n)
  Efficiency = T1 / (n·T(n)). Not modelled: memory-bandwidth contention (the memory-bound loops will do
  worse than this on a real machine), SMT, frequency changes.
--measure: also run gpt_bench on 1 and n real threads (n up to the cores there) and print the measured
  efficiency beside the prediction (bench/device.sh runs this on the 16-core machine).
--perf: also `perf record` the 1-thread run and attribute its serial samples (outside every region, inside
  the measured steps) to the innermost project function, in ms per step.
"""
import argparse
import bisect
import collections
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROUNDS = {"baby": 10, "small": 3, "gpt2": 3}  # emulated steps per thread count
MEASURE_STEPS = {"baby": 20, "small": 4, "gpt2": 4}
PERF_STEPS = {"baby": 60, "small": 4, "gpt2": 4}
PERF_HZ = 4000


def build_tools(build):
    """The shim and the overhead probe, compiled next to gpt_bench with the C compiler; where there is
    none (bench/device.sh's bundle on the 16-core machine), the ones already there."""
    cc = os.environ.get("CC", "cc")
    shim = os.path.join(build, "omp_shim.so")
    probe = os.path.join(build, "omp_overhead")
    if shutil.which(cc) and os.path.exists(os.path.join(HERE, "omp_shim.c")):
        subprocess.run([cc, "-O2", "-Wall", "-Wextra", "-shared", "-fPIC", "-o", shim,
                        os.path.join(HERE, "omp_shim.c"), "-ldl"], check=True)
        subprocess.run([cc, "-O2", "-Wall", "-Wextra", "-fopenmp", "-o", probe,
                        os.path.join(HERE, "omp_overhead.c")], check=True)
    for tool in (shim, probe):
        if not os.path.exists(tool):
            sys.exit(f"amdahl: no C compiler ({cc}) to build {tool}, and none there")
    return shim, probe


def overheads(probe, wanted):
    """{n: (c µs, b µs)} for every wanted n: measured up to the cores here, log2-extrapolated beyond."""
    cores = os.cpu_count() or 1
    measured = {}
    for n in sorted({min(n, cores) for n in wanted if n > 1} | ({2} if cores >= 2 else set())):
        r = json.loads(subprocess.run([probe, str(n)], capture_output=True, text=True, check=True).stdout)
        measured[n] = (r["fork_join_us"], r["barrier_us"])
    if not measured:
        sys.exit("amdahl: one core here; c(n) needs at least 2 to measure")
    top = max(measured)
    out = {}
    for n in wanted:
        if n in measured:
            out[n] = measured[n] + ("measured",)
        else:
            scale = math.log2(n) / math.log2(top)
            out[n] = (measured[top][0] * scale, measured[top][1] * scale, f"c({top})·log2({n})/log2({top})")
    return out, measured


def run_bench(build, shim, config, threads, steps, warmup, data, emulate, perf_out=None, teams=None):
    """gpt_bench's JSON line and the shim's report; teams: emulated thread counts taken in turn."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        out_path = f.name
    env = dict(os.environ, LD_PRELOAD=shim, GPT_OMP_SHIM="emulate" if emulate else "count",
               GPT_OMP_SHIM_OUT=out_path, OMP_NUM_THREADS=str(threads))
    env.pop("GPT_OMP_SHIM_TEAMS", None)
    if teams:
        env["GPT_OMP_SHIM_TEAMS"] = ",".join(str(n) for n in teams)
    cmd = [os.path.join(build, "gpt_bench"), "train", "--config", config, "--threads", str(threads),
           "--steps", str(steps), "--warmup", str(warmup)]
    if data:
        cmd += ["--data", data]
    if perf_out:
        cmd = ["perf", "record", "-q", "-k", "CLOCK_MONOTONIC", "-F", str(PERF_HZ), "--call-graph", "dwarf,16384",
               "-o", perf_out, "--"] + cmd
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        sys.exit(f"amdahl: {' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr}")
    bench = json.loads(proc.stdout.strip().splitlines()[-1])
    with open(out_path) as f:
        shim_report = json.load(f)
    os.unlink(out_path)
    return bench, shim_report


def site_names(build, sites):
    """Outlined region functions by name: addr2line on gpt_bench, or, for bench/device.sh's stripped
    bundle, the symbol table saved beside it (gpt_bench.syms, `nm -C` of the unstripped binary)."""
    exe = os.path.realpath(os.path.join(build, "gpt_bench"))
    names = {}
    syms_path = os.path.join(build, "gpt_bench.syms")
    if os.path.exists(syms_path):
        table = []
        with open(syms_path) as f:
            for line in f:
                parts = line.rstrip("\n").split(" ", 2)
                if len(parts) == 3 and parts[1] in "tTwW":
                    table.append((int(parts[0], 16), parts[2]))
        table.sort()
        starts = [t[0] for t in table]
        for s in sites:
            i = bisect.bisect_right(starts, int(s["offset"], 16)) - 1
            if i >= 0 and os.path.basename(s["object"]).startswith("gpt_bench"):
                names[s["offset"]] = short_name(table[i][1])
    else:
        mine = [s for s in sites if os.path.realpath(s["object"]) == exe]
        if mine and shutil.which("addr2line"):
            out = subprocess.run(["addr2line", "-f", "-C", "-e", exe] + [s["offset"] for s in mine],
                                 capture_output=True, text=True).stdout.splitlines()[0::2]
            for s, name in zip(mine, out):
                if name != "??":
                    names[s["offset"]] = short_name(name)
    return {s["offset"]: names.get(s["offset"], os.path.basename(s["object"]) + "+" + s["offset"]) for s in sites}


def short_name(name):
    """gpt::kernels::avx512::(anonymous namespace)::sgemm(bool, …) [clone ._omp_fn.0] → sgemm."""
    depth, cut = 0, len(name)
    for i, ch in enumerate(name):  # the function name ends at its parameter list's '(' at depth 0 of <>
        if ch == "<":
            depth += 1
        elif ch == ">":
            depth -= 1
        elif ch == "(" and depth == 0 and not name.startswith("(anonymous", i):
            cut = i
            break
    base = name[:cut]
    for prefix in ("gpt::kernels::avx512::", "gpt::kernels::avx2::", "gpt::kernels::portable::",
                   "(anonymous namespace)::", "gpt::"):
        base = base.replace(prefix, "")
    if "<" in base:  # templates: keep the outer name and the first argument's op
        outer = base.split("<", 1)[0]
        inner = base.split("<", 1)[1]
        op = inner.split("(", 1)[0].replace("gpt::", "")
        base = f"{outer}<{op}>"
    return base


def perf_serial(perf_data, windows, steps, top=10):
    """ms per step of the 1-thread run's samples outside every region, by innermost project function."""
    text = subprocess.run(["perf", "script", "-i", perf_data, "-F", "time,ip,sym"], capture_output=True,
                          text=True).stdout
    starts = [w[0] for w in windows]
    counts, total_in = collections.Counter(), 0
    for block in text.split("\n\n"):
        lines = [l for l in block.splitlines() if l.strip()]
        if not lines:
            continue
        try:
            t = float(lines[0].strip().rstrip(":"))
        except ValueError:
            continue
        i = bisect.bisect_right(starts, t) - 1
        if i < 0 or t > windows[i][1]:
            continue
        total_in += 1
        frames = [l.split(None, 1)[1].strip() if len(l.split(None, 1)) > 1 else "?" for l in lines[1:]]
        if any(marker in f for f in frames for marker in ("emulate_parallel", "count_parallel", "fiber_main", "GOMP_")):
            continue
        owner = next((short_name(f) for f in frames if f.startswith("gpt::") and "::kernels::" not in f
                      and "lambda" not in f), "?")
        leaf = frames[0].split("(")[0].strip() if frames else "?"
        counts[(owner, leaf)] += 1
    ms = 1000.0 / PERF_HZ / steps  # one sample, per step
    return [(owner, leaf, n * ms) for (owner, leaf), n in counts.most_common(top)], total_in * ms


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("build", nargs="?", default=os.path.join(HERE, "..", "build"))
    p.add_argument("--configs", default="baby,small,gpt2")
    p.add_argument("--threads", default="4,8,16")
    p.add_argument("--rounds", default="", help="emulated steps per thread count, per config, e.g. baby:10,small:3")
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--data", default="")
    p.add_argument("--perf", action="store_true")
    p.add_argument("--json", default="")
    p.add_argument("--measure", action="store_true",
                   help="also run gpt_bench on 1 and n real threads (wall time): the machine must have n cores")
    a = p.parse_args()
    configs = a.configs.split(",")
    threads = [int(t) for t in a.threads.split(",")]
    if any(t < 2 for t in threads):
        sys.exit("amdahl: --threads takes counts of 2 and more")
    steps = dict(ROUNDS)
    for item in filter(None, a.rounds.split(",")):
        name, _, n = item.partition(":")
        steps[name] = int(n)
    if not os.path.exists(os.path.join(a.build, "gpt_bench")):
        sys.exit(f"amdahl: no gpt_bench in {a.build} (make -C {a.build} gpt_bench)")
    if a.perf and not shutil.which("perf"):
        sys.exit("amdahl: --perf needs perf")

    shim, probe = build_tools(a.build)
    cost, measured = overheads(probe, threads)
    with open("/proc/loadavg") as f:
        load = f.read().split()[0]
    results = {"overheads_us": {str(n): {"fork_join": c, "barrier": b, "source": s} for n, (c, b, s) in cost.items()},
               "load": load, "configs": {}}

    for config in configs:
        rounds = steps.get(config, 3)
        teams = [1] + threads
        n_steps = rounds * len(teams)
        # 1 thread and every n in turn, step after step, in one process
        emulated, report = run_bench(a.build, shim, config, 1, n_steps, a.warmup, a.data, True, teams=teams)
        # the same steps on one real thread: the same loss bits, or the emulation changed what was computed
        plain, _ = run_bench(a.build, shim, config, 1, n_steps, a.warmup, a.data, False)
        if emulated["last_loss_exact"] != plain["last_loss_exact"]:
            sys.exit(f"amdahl: {config} with emulated teams of {teams} ends on loss {emulated['last_loss_exact']}, "
                     f"1 real thread on {plain['last_loss_exact']}: the emulation (or determinism) is broken")
        by_team = {t["threads"]: t for t in report["teams"]}
        one = by_team[1]
        T1 = one["median"]["step_ms"]
        entry = {"rounds": rounds, "T1_ms": T1, "serial_1_ms": one["median"]["outside_ms"], "regions": one["regions"],
                 "kernels": plain["kernels"], "loss": plain["last_loss_exact"], "threads": {}}
        ones = {s["offset"]: s for s in one["sites"]}  # the same binary: the same offsets
        for n in threads:
            r = by_team[n]
            m = r["median"]
            c, b, _ = cost[n]
            S = m["serial_ms"]
            overhead = (r["active_regions"] * c + r["barriers"] * b) / 1000.0
            amdahl = S + m["work_ms"] / n + overhead
            imbalance = S + m["predicted_ms"] + overhead
            names = site_names(a.build, r["sites"])
            sites = []
            for s in r["sites"]:
                w1 = ones.get(s["offset"], {}).get("wall_ms", 0.0)
                sites.append({"site": names[s["offset"]], "calls": s["calls"], "active_calls": s["active_calls"],
                              "one_thread_ms": w1, "work_ms": s["work_ms"], "predicted_ms": s["predicted_ms"],
                              "inactive_ms": s["inactive_ms"], "serial_before_ms": s["serial_before_ms"],
                              # what this site costs at n beyond a perfect 1/n share of its 1-thread time
                              "loss_ms": s["predicted_ms"] + s["inactive_ms"] - w1 / n})
            sites.sort(key=lambda s: -s["loss_ms"])
            entry["threads"][str(n)] = {
                "serial_ms": S, "work_ms": m["work_ms"], "balanced_ms": m["predicted_ms"],
                "active_regions": r["active_regions"], "regions": r["regions"], "barriers": r["barriers"],
                "overhead_ms": overhead, "amdahl_ms": amdahl, "imbalance_ms": imbalance,
                "amdahl_eff": T1 / (n * amdahl), "imbalance_eff": T1 / (n * imbalance), "sites": sites[:8]}
        if a.perf:  # its own run (perf's unwinding slows the step), with enough steps for the samples
            perf_data = tempfile.mktemp(suffix=".perf")
            perf_steps = PERF_STEPS.get(config, 4)
            _, sampled = run_bench(a.build, shim, config, 1, perf_steps, a.warmup, a.data, True, perf_data)
            entry["perf_serial"], entry["perf_in_steps_ms"] = perf_serial(perf_data, sampled["windows"], perf_steps)
            entry["perf_serial_ms"] = sampled["teams"][0]["median"]["outside_ms"]
            os.unlink(perf_data)
        if a.measure:  # real threads, libgomp's own team; the shim counts (wall time)
            for n in [1] + [n for n in threads if n <= (os.cpu_count() or 1)]:  # more threads than cores: no
                measure_steps = MEASURE_STEPS.get(config, 4)
                bench, r = run_bench(a.build, shim, config, n, measure_steps, a.warmup, a.data, False)
                t = r["teams"][0]
                entry.setdefault("measured", {})[str(n)] = {
                    "ms": bench["ms"], "regions": t["regions"], "active_regions": t["active_regions"],
                    "barriers": t["barriers"], "region_ms": t["region_ms"], "serial_ms": t["median"]["serial_ms"]}
        results["configs"][config] = entry
        print(f"amdahl: {config} done", file=sys.stderr)

    print_tables(results, threads, measured)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=1)


def print_tables(results, threads, measured):
    print(f"load average at the start: {results['load']}; {os.cpu_count()} cores here")
    print("fork/join c(n) and barrier b(n), µs: " + ", ".join(
        f"n={n}: {v['fork_join']:.2f} / {v['barrier']:.2f} ({v['source']})"
        for n, v in results["overheads_us"].items()))
    print()
    top = threads[-1]
    head = ("| config | T1 ms/step (1 thread, CPU) | serial ms/step at 1 thread | serial at "
            f"{top} threads (ms, % of T1) | regions/step (parallel at n / all) | barriers/step | "
            + " | ".join(f"eff. {n} thr (Amdahl / + imbalance)" for n in threads) + f" | predicted ms/step at {top} |")
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    for config, e in results["configs"].items():
        t = e["threads"]
        last = t[str(top)]
        effs = " | ".join(f"{t[str(n)]['amdahl_eff'] * 100:.0f} % / {t[str(n)]['imbalance_eff'] * 100:.0f} %"
                          for n in threads)
        print(f"| {config} ({e['kernels']}) | {e['T1_ms']:.1f} | {e['serial_1_ms']:.2f} | "
              f"{last['serial_ms']:.2f} ({last['serial_ms'] / e['T1_ms'] * 100:.1f} %) | "
              f"{last['active_regions']:.0f} / {last['regions']:.0f} | {last['barriers']:.0f} | {effs} | "
              f"{last['imbalance_ms']:.2f} |")
    if any("measured" in e for e in results["configs"].values()):
        print("\nMeasured on real threads here (gpt_bench's median wall ms/step; efficiency = T1 / (n·Tn)):")
        print("| config | " + " | ".join(f"{n} thr ms (eff.)" for n in [1] + threads) + " |")
        print("|---|" + "---|" * (len(threads) + 1))
        for config, e in results["configs"].items():
            m = e.get("measured")
            if not m:
                continue
            t1 = m["1"]["ms"]
            print(f"| {config} | " + " | ".join(f"{m[str(n)]['ms']:.1f} ({t1 / (n * m[str(n)]['ms']) * 100:.0f} %)"
                                                if str(n) in m else "more threads than cores"
                                                for n in [1] + threads) + " |")
    print()
    print(f"Where the {top}-thread step loses time (emulated; per step): work W (all threads), E on {top} cores, "
          f"serial S, fork/join + barriers")
    for config, e in results["configs"].items():
        last = e["threads"][str(top)]
        print(f"\n{config}: T1 {e['T1_ms']:.2f} ms; at {top}: S {last['serial_ms']:.2f} + E {last['balanced_ms']:.2f} "
              f"+ overheads {last['overhead_ms']:.2f} = {last['imbalance_ms']:.2f} ms (ideal T1/{top} = "
              f"{e['T1_ms'] / top:.2f}); W {last['work_ms']:.2f} ms vs {e['T1_ms'] - e['serial_1_ms']:.2f} "
              "in regions at 1 thread")
        print("| region site | calls (parallel) | 1 thread ms | work at n ms | on n cores ms | serial at n ms "
              "| loss vs T1/n ms |")
        print("|---|---|---|---|---|---|---|")
        for s in last["sites"][:6]:
            print(f"| {s['site']} | {s['calls']:.0f} ({s['active_calls']:.0f}) | {s['one_thread_ms']:.2f} | "
                  f"{s['work_ms']:.2f} | {s['predicted_ms']:.2f} | {s['inactive_ms']:.2f} | {s['loss_ms']:.2f} |")
        if "perf_serial" in e:
            print(f"\nserial samples at 1 thread (perf, outside every region; that run's serial time by the shim: "
                  f"{e['perf_serial_ms']:.2f} ms/step, perf slowing it)")
            print("| function | leaf | ms/step |")
            print("|---|---|---|")
            for owner, leaf, ms in e["perf_serial"]:
                print(f"| {owner} | {leaf} | {ms:.3f} |")


if __name__ == "__main__":
    main()
