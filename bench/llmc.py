"""llm.c's CPU trainer beside `gpt_bench --config gpt2` (GPT-2 124M, batch 4, block 64), same run.

usage: /usr/bin/python3 bench/llmc.py --llmc DIR [--build build] [--threads 2] [--steps 10] [--work /tmp/gpt_llmc]

DIR is a checkout of github.com/karpathy/llm.c (nothing of it is copied into this repository). In a copy
under --work: `make train_gpt2` (its own Makefile: -Ofast -march=native, OpenMP), a random GPT-2 124M in
llm.c's checkpoint format (gpt2_124M.bin, header version 3: vocab 50257 padded to 50304, weights
N(0, 0.02), biases 0, LayerNorm gains 1), and token files made of the same bytes gpt_bench trains on
(/usr/share/games/fortunes/computers, each byte a token id). Its train_gpt2 runs unmodified; its own
"step N: train loss L (took T ms)" lines give the step times (steps 1..--steps, median; step 0 warms up),
and it is stopped after them (before its first text generation at step 20). Peak RSS: the process's
ru_maxrss. The project's side: gpt_bench train --config gpt2 --optimizer_in_backward (no clipping,
as llm.c: AdamW, no clip, weight decay 0 in its run), median of its steps, its peak RSS.
Benchmarks only: run on an otherwise idle machine.
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys

import numpy as np


def write_model(path, seed=1337):
    L, H, C, maxT, V, Vp = 12, 12, 768, 1024, 50257, 50304
    rng = np.random.default_rng(seed)
    header = np.zeros(256, dtype=np.int32)
    header[:8] = [20240326, 3, maxT, V, L, H, C, Vp]
    normal = lambda *shape: (rng.standard_normal(shape, dtype=np.float32) * 0.02)
    # llm.c's order (fill_in_parameter_sizes): wte, wpe, ln1w, ln1b, qkvw, qkvb, attprojw, attprojb,
    # ln2w, ln2b, fcw, fcb, fcprojw, fcprojb, lnfw, lnfb.
    tensors = [normal(Vp, C), normal(maxT, C), np.ones((L, C), np.float32), np.zeros((L, C), np.float32),
               normal(L, 3 * C, C), np.zeros((L, 3 * C), np.float32), normal(L, C, C), np.zeros((L, C), np.float32),
               np.ones((L, C), np.float32), np.zeros((L, C), np.float32), normal(L, 4 * C, C),
               np.zeros((L, 4 * C), np.float32), normal(L, C, 4 * C), np.zeros((L, C), np.float32),
               np.ones(C, np.float32), np.zeros(C, np.float32)]
    with open(path, "wb") as f:
        f.write(header.tobytes())
        for t in tensors:
            f.write(np.ascontiguousarray(t, dtype=np.float32).tobytes())


def write_tokens(path, data):
    header = np.zeros(256, dtype=np.int32)
    header[:3] = [20240520, 1, len(data)]
    with open(path, "wb") as f:
        f.write(header.tobytes())
        f.write(np.frombuffer(data, dtype=np.uint8).astype(np.uint16).tobytes())


def run_llmc(args, work, env):
    proc = subprocess.Popen(["./train_gpt2"], cwd=work, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=env)
    times, losses = [], []
    for line in proc.stdout:
        m = re.match(r"step (\d+): train loss ([\d.]+) \(took ([\d.]+) ms\)", line)
        if m:
            step = int(m.group(1))
            losses.append(float(m.group(2)))
            if step >= 1:
                times.append(float(m.group(3)))
            if step >= args.steps:
                proc.kill()
                break
    _, status, usage = os.wait4(proc.pid, 0)
    if not times:
        sys.exit("llm.c's train_gpt2 printed no step")
    return {"ms": statistics.median(times), "rss_mb": usage.ru_maxrss / 1024.0, "first_loss": losses[0],
            "last_loss": losses[-1], "steps": len(times)}


def peak_rss_of(cmd, env):
    wrapper = ("import resource,subprocess,sys;r=subprocess.run(sys.argv[1:],capture_output=True,text=True);"
               "print(r.stdout);print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,file=sys.stderr);"
               "sys.exit(r.returncode)")
    proc = subprocess.run([sys.executable, "-c", wrapper] + cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed: {proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1]), int(proc.stderr.strip().splitlines()[-1]) / 1024.0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--llmc", required=True)
    ap.add_argument("--build", default=os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "build"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--work", default="/tmp/gpt_llmc")
    ap.add_argument("--data", default="/usr/share/games/fortunes/computers")
    args = ap.parse_args()
    work = os.path.join(args.work, "llm.c")
    if not os.path.exists(os.path.join(work, "train_gpt2")):
        shutil.rmtree(work, ignore_errors=True)
        shutil.copytree(args.llmc, work, ignore=shutil.ignore_patterns(".git"))
        subprocess.run(["make", "train_gpt2"], cwd=work, check=True, capture_output=True)
    write_model(os.path.join(work, "gpt2_124M.bin"))
    data = open(args.data, "rb").read()
    os.makedirs(os.path.join(work, "dev", "data", "tinyshakespeare"), exist_ok=True)
    split = int(len(data) * 0.9)
    write_tokens(os.path.join(work, "dev/data/tinyshakespeare/tiny_shakespeare_train.bin"), data[:split])
    write_tokens(os.path.join(work, "dev/data/tinyshakespeare/tiny_shakespeare_val.bin"), data[split:])
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    env["OMP_NUM_THREADS"] = str(args.threads)
    theirs = run_llmc(args, work, env)
    ours, ours_rss = peak_rss_of([os.path.join(args.build, "gpt_bench"), "train", "--config", "gpt2", "--threads",
                                  str(args.threads), "--steps", str(min(args.steps, 4)), "--warmup", "1",
                                  "--optimizer_in_backward"], env)
    print(f"GPT-2 124M shape, batch 4 × block 64, {args.threads} threads, AdamW without clipping on both sides")
    print()
    print("| side | ms/step (median) | peak RSS MB | loss first→last |")
    print("|---|---|---|---|")
    print(f"| llm.c train_gpt2 ({theirs['steps']} steps) | {theirs['ms']:.0f} | {theirs['rss_mb']:.0f} | "
          f"{theirs['first_loss']:.3f}→{theirs['last_loss']:.3f} |")
    print(f"| gpt_bench --optimizer_in_backward ({ours.get('kernels', '?')}) | {ours['ms']:.0f} | {ours_rss:.0f} | "
          f"{ours['first_loss']:.3f}→{ours['last_loss']:.3f} |")
    print(f"| **project / llm.c** | speed ×{theirs['ms'] / ours['ms']:.2f} | memory ×{ours_rss / theirs['rss_mb']:.2f} | |")


if __name__ == "__main__":
    main()
