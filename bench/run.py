"""Runs gpt_bench and the PyTorch reference side by side, alternating them, each as its own process
so that its peak RSS (os.wait4's ru_maxrss) is its own, and prints a markdown table.

usage: /usr/bin/python3 bench/run.py BUILD_DIR [--configs baby,small] [--threads 1,2] [--reps 1]
                                     [--kernels native,avx2] [--compile]
                                     [--baby_steps 30] [--small_steps 6] [--warmup 3]

The fair peer, automatically: Debian's OpenBLAS 0.3.21 does not know every CPU and then falls back to
its SSE3 ("Prescott") kernels, 3-5x slower than the CPU can do. bench/blas_probe.py first times a 1024²
float32 product through the installed torch under each OPENBLAS_CORETYPE it can take (checked against
float64), and the PyTorch side of every native row runs with the fastest correct one; the probe's table
and the choice are printed. The project's side runs with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE removed
(its own kernels do not use them). Only this benchmark sets these variables; tests and CI keep the
environment they are given.
--nanogpt DIR adds nanoGPT's own model class and optimizer (bench/reference_train.py --nanogpt) as a
side, with the same BLAS setting. (llm.c's CPU trainer: bench/llmc.py.)

--kernels: one set of rows per entry.
  native   the project's path chosen by CPU detection; PyTorch with its natural kernels.
  avx512   the project forced to GPT_KERNELS=avx512; PyTorch natural.
  avx2     both sides limited to AVX2: the project forced to GPT_KERNELS=avx2; PyTorch with
           OPENBLAS_CORETYPE=Haswell (torch 1.13 computes its products through OpenBLAS) and, for torch 2.x,
           ATEN_CPU_CAPABILITY=avx2 MKL_ENABLE_INSTRUCTIONS=AVX2 ONEDNN_MAX_CPU_ISA=AVX2.
  portable the project forced to GPT_KERNELS=portable (OpenBLAS, auto core type); PyTorch natural.
--compile adds a third side, PyTorch with torch.compile (torch 2.x only; its compile time is reported
separately, not in ms/step).
Each row records the kernel path the project used (gpt_bench prints kernel_path_name()) and the ISA
PyTorch reported (torch.backends.cpu.get_cpu_capability(), or torch.__config__'s line on torch 1.13).
"""
import argparse
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import blas_probe  # noqa: E402

# "% of peak" divides by the fp32 FMA ceiling measured here (gpt_bench peak: independent FMAs, no memory)
# for the row's ISA: the machine's widest vectors for native rows, 256-bit for avx2 and portable rows.
HANDICAPS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
AVX2_TORCH = {"OPENBLAS_CORETYPE": "Haswell", "ATEN_CPU_CAPABILITY": "avx2", "MKL_ENABLE_INSTRUCTIONS": "AVX2",
              "ONEDNN_MAX_CPU_ISA": "AVX2"}


def load():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def cpu_model():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return "unknown"


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


def environments(kernels, threads, best_coretype):
    """(project env, pytorch env) for one --kernels entry."""
    base = {k: v for k, v in os.environ.items() if k not in HANDICAPS}
    base["OMP_NUM_THREADS"] = str(threads)
    for k in ("GPT_KERNELS", "GPT_GEMM", *AVX2_TORCH):
        base.pop(k, None)
    ours, torch_env = dict(base), dict(base)
    if kernels != "native":
        ours["GPT_KERNELS"] = kernels
    if kernels == "avx2":
        torch_env.update(AVX2_TORCH)
    elif best_coretype:
        torch_env["OPENBLAS_CORETYPE"] = best_coretype
    return ours, torch_env


def torch_isa(r):
    isa = r.get("isa", "?")
    coretype = r.get("openblas_coretype", "auto")
    return f"{isa}, OpenBLAS {coretype}, {r.get('attention', 'written-out')}" + (" compiled" if r.get("compiled") else "")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build_dir")
    ap.add_argument("--configs", default="baby,small")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--kernels", default="native", help="comma list of native, avx512, avx2, portable")
    ap.add_argument("--compile", action="store_true", help="add a torch.compile side (torch 2.x)")
    ap.add_argument("--reps", type=int, default=1)
    ap.add_argument("--optimizer_in_backward", action="store_true",
                    help="no clipping on either side; the project updates inside backward (less memory)")
    ap.add_argument("--baby_steps", type=int, default=30)
    ap.add_argument("--small_steps", type=int, default=6)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--data", help="training bytes for both sides (default: their /usr/share/games/fortunes/computers)")
    ap.add_argument("--python", default="/usr/bin/python3", help="the interpreter with torch (the reference side)")
    ap.add_argument("--nanogpt", help="a nanoGPT checkout: add its own model class as a side")
    ap.add_argument("--json", help="also write every measurement here (bench/results.py reads it)")
    args = ap.parse_args()
    probe_threads = max(int(t) for t in args.threads.split(","))
    probe_rows, best = blas_probe.probe(args.python, probe_threads)
    bench = os.path.join(args.build_dir, "gpt_bench")
    reference = os.path.join(os.path.dirname(os.path.abspath(__file__)), "reference_train.py")
    rows, sgemms, peaks = [], [], {}
    for kernels in args.kernels.split(","):
        for threads in [int(t) for t in args.threads.split(",")]:
            ours_env, torch_env = environments(kernels, threads, best)
            if threads not in peaks:
                peaks[threads] = run_measured([bench, "peak", "--threads", str(threads)], ours_env)[0]
            sgemm, _, sgemm_load = run_measured([bench, "sgemm", "--threads", str(threads)], ours_env)
            sgemms.append((kernels, sgemm, sgemm_load))
            for config in args.configs.split(","):
                steps = args.baby_steps if config == "baby" else args.small_steps
                common = ["--config", config, "--threads", str(threads), "--steps", str(steps), "--warmup",
                          str(args.warmup)] + (["--data", args.data] if args.data else [])
                for _ in range(args.reps):
                    fused = ["--optimizer_in_backward"] if args.optimizer_in_backward else []
                    unclipped = ["--grad_clip", "0"] if args.optimizer_in_backward else []
                    sides = [("project", *run_measured([bench, "train"] + common + fused, ours_env))]
                    sides.append(("pytorch", *run_measured([args.python, reference] + common + unclipped, torch_env)))
                    if args.nanogpt:
                        sides.append(("nanoGPT", *run_measured([args.python, reference, "--nanogpt", args.nanogpt] +
                                                               common + unclipped, torch_env)))
                    if args.compile:
                        sides.append(("pytorch compile",
                                      *run_measured([args.python, reference, "--compile"] + common + unclipped, torch_env)))
                    rows.append((kernels, config, threads, sides))
    print(f"CPU: {cpu_model()}; {os.cpu_count()} CPUs. PyTorch's BLAS kernels (bench/blas_probe.py, "
          f"{probe_threads} threads):")
    print()
    print(blas_probe.table(probe_rows, best))
    print()
    print(f"PyTorch and nanoGPT sides: OPENBLAS_CORETYPE={best or 'unset'} in native rows, Haswell in avx2 rows; "
          f"the project's side: OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE unset")
    print()
    print("| rows | config | threads | side | ISA in use | ms/step | CPU ms/step | fwd / bwd / opt ms | tokens/s "
          "| peak RSS MB | GFLOP/s | % of peak | load | loss first→last |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    def ceiling(kernels, threads):
        p = peaks[threads]
        wide = kernels in ("native", "avx512") and p["avx512_gflops"] > 0
        return p["avx512_gflops"] if wide else p["avx2_gflops"]

    for kernels, config, threads, sides in rows:
        fpt = sides[0][1]["flops_per_token"]
        peak = ceiling(kernels, threads)
        for name, r, rss, ld in sides:
            tps = r["tokens_per_step"] / (r["ms"] / 1e3)
            gflops = tps * fpt / 1e9
            isa = (f"{r.get('kernels', '?')} (gemm {r.get('gemm', '?')}" + (", AdamW in backward" if r.get("optimizer_in_backward") else "") + ")"
                   if name == "project" else torch_isa(r))
            extra = f" (compile {r['compile_s']} s)" if r.get("compile_s") else ""
            print(f"| {kernels} | {config} | {threads} | {name}{extra} | {isa} | {r['ms']:.1f} | {r['cpu_ms']:.1f} | "
                  f"{r['forward_ms']:.1f} / {r['backward_ms']:.1f} / {r['optimizer_ms']:.1f} | {tps:,.0f} | {rss:.0f} | "
                  f"{gflops:.1f} | {100 * gflops / peak:.1f}% | {ld:.1f} | "
                  f"{r['first_loss']:.3f}→{r['last_loss']:.3f} |")
        ours, ours_rss = sides[0][1], sides[0][2]
        for name, r, rss, _ in sides[1:]:
            print(f"| {kernels} | {config} | {threads} | **project/{name}** | same run | speed ×{r['ms'] / ours['ms']:.2f} | "
                  f"×{r['cpu_ms'] / ours['cpu_ms']:.2f} | | | memory ×{ours_rss / rss:.2f} | | | | |")
    print()
    for kernels, sgemm, sgemm_load in sgemms:
        print(f"sgemm [{sgemm['m']}×{sgemm['k']}]·[{sgemm['k']}×{sgemm['n']}], {sgemm['threads']} threads, "
              f"{kernels} rows: OpenBLAS {sgemm['gflops']:.1f} GFLOP/s, sgemm() ({sgemm.get('kernels', '?')}, "
              f"own {sgemm['own_kernel']}) {sgemm['own_gflops']:.1f} GFLOP/s, max |diff| {sgemm['max_abs_diff']:.2g}, "
              f"load {sgemm_load:.1f}")
    for threads, p in sorted(peaks.items()):
        print(f"fp32 FMA ceiling measured here (gpt_bench peak), {threads} threads: 256-bit {p['avx2_gflops']:.1f} "
              f"GFLOP/s, 512-bit {p['avx512_gflops']:.1f} GFLOP/s (the % of peak column: 512-bit for native and "
              f"avx512 rows where the CPU has it, 256-bit for avx2 and portable rows)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"probe": probe_rows, "coretype": best, "peaks": {str(t): p for t, p in peaks.items()},
                       "rows": [{"kernels": k, "config": c, "threads": t,
                                 "sides": [{"side": n, "result": r, "rss_mb": rss, "load": ld} for n, r, rss, ld in sides]}
                                for k, c, t, sides in rows]}, f, indent=1)
    first = rows[0]
    print("model FLOPs/token: baby/small = 6·N + 12·L·C·T (N = parameters except wpe); "
          + ", ".join(f"{r[1]} {r[3][0][1]['flops_per_token'] / 1e6:.2f} M" for r in rows
                      if r[0] == first[0] and r[2] == first[2]))


if __name__ == "__main__":
    main()
