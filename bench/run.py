"""Runs gpt_bench and the PyTorch reference side by side, alternating them, each as its own process
so that its peak RSS (os.wait4's ru_maxrss) is its own, and prints a markdown table.

usage: /usr/bin/python3 bench/run.py BUILD_DIR [--configs baby,small] [--threads 1,2] [--reps 1]
                                     [--baby_steps 30] [--small_steps 6] [--warmup 3]
"""
import argparse
import json
import os
import subprocess
import sys

PEAK_GFLOPS = 448.0  # 2 cores × 2 AVX-512 FMA units × 16 lanes × 2 flops × 3.5 GHz


def load():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def run_measured(cmd, env):
    # Popen.communicate() reaps the child, so take ru_maxrss from a wrapper: /usr/bin/time is not
    # always installed, and RUSAGE_CHILDREN is a running maximum; a fresh python -c wrapper per run gives
    # each measurement its own RUSAGE_CHILDREN.
    wrapper = ("import os,resource,subprocess,sys;r=subprocess.run(sys.argv[1:]);"
               "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,file=sys.stderr);sys.exit(r.returncode)")
    before = load()
    proc = subprocess.run([sys.executable, "-c", wrapper] + cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr}")
    rss_kb = int(proc.stderr.strip().splitlines()[-1])
    return json.loads(proc.stdout.strip().splitlines()[-1]), rss_kb / 1024.0, before


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build_dir")
    ap.add_argument("--configs", default="baby,small")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--reps", type=int, default=1)
    ap.add_argument("--baby_steps", type=int, default=30)
    ap.add_argument("--small_steps", type=int, default=6)
    ap.add_argument("--warmup", type=int, default=3)
    args = ap.parse_args()
    bench = os.path.join(args.build_dir, "gpt_bench")
    here = os.path.dirname(os.path.abspath(__file__))
    env = dict(os.environ)
    rows = []
    for threads in [int(t) for t in args.threads.split(",")]:
        env["OMP_NUM_THREADS"] = str(threads)
        sgemm, _, sgemm_load = run_measured([bench, "sgemm", "--threads", str(threads)], env)
        for config in args.configs.split(","):
            steps = args.baby_steps if config == "baby" else args.small_steps
            common = ["--config", config, "--threads", str(threads), "--steps", str(steps), "--warmup",
                      str(args.warmup)]
            for _ in range(args.reps):
                ours, ours_rss, ours_load = run_measured([bench, "train"] + common, env)
                ref, ref_rss, ref_load = run_measured(["/usr/bin/python3", os.path.join(here, "reference_train.py")]
                                                      + common, env)
                rows.append((config, threads, ours, ours_rss, ours_load, ref, ref_rss, ref_load, sgemm, sgemm_load))
    print("| config | threads | side | ms/step | CPU ms/step | fwd / bwd / opt ms | tokens/s | peak RSS MB | GFLOP/s | % of 448 "
          "| load | loss first→last |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for config, threads, ours, ours_rss, ours_load, ref, ref_rss, ref_load, sgemm, sgemm_load in rows:
        fpt = ours["flops_per_token"]
        for name, r, rss, ld in (("project", ours, ours_rss, ours_load), ("pytorch", ref, ref_rss, ref_load)):
            tps = r["tokens_per_step"] / (r["ms"] / 1e3)
            gflops = tps * fpt / 1e9
            print(f"| {config} | {threads} | {name} | {r['ms']:.1f} | {r['cpu_ms']:.1f} | {r['forward_ms']:.1f} / {r['backward_ms']:.1f} / "
                  f"{r['optimizer_ms']:.1f} | {tps:,.0f} | {rss:.0f} | {gflops:.1f} | {100 * gflops / PEAK_GFLOPS:.1f}% "
                  f"| {ld:.1f} | {r['first_loss']:.3f}→{r['last_loss']:.3f} |")
        print(f"| {config} | {threads} | **project/pytorch** | speed ×{ref['ms'] / ours['ms']:.2f} | "
              f"×{ref['cpu_ms'] / ours['cpu_ms']:.2f} | | | "
              f"memory ×{ours_rss / ref_rss:.2f} | | | | |")
    print()
    seen = set()
    for row in rows:
        sgemm, sgemm_load = row[8], row[9]
        if sgemm["threads"] in seen:
            continue
        seen.add(sgemm["threads"])
        print(f"cblas_sgemm [{sgemm['m']}×{sgemm['k']}]·[{sgemm['k']}×{sgemm['n']}], {sgemm['threads']} threads: "
              f"{sgemm['gflops']:.1f} GFLOP/s ({100 * sgemm['gflops'] / PEAK_GFLOPS:.1f}% of {PEAK_GFLOPS:.0f}), "
              f"load {sgemm_load:.1f}")
    print(f"model FLOPs/token: baby/small = 6·N + 12·L·C·T (N = parameters except wpe); "
          + ", ".join(f"{r[0]} {r[2]['flops_per_token'] / 1e6:.2f} M" for r in rows if r[1] == rows[0][1]))


if __name__ == "__main__":
    main()
