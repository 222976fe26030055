"""The Shakespeare speedrun: validation loss against wall time for gpt-cpp recipes and (optionally)
nanoGPT's own README CPU recipe, on the same text, the same 2 threads, the same held-out text.

usage: /usr/bin/python3 bench/speedrun.py --data tinyshakespeare.txt [--build build]
           [--recipes plain=configs/shakespeare_char.toml,speedrun=configs/shakespeare_char_speedrun.toml]
           [--seeds 1337,1338] [--nanogpt DIR] [--threads 2] [--work /tmp/gpt_speedrun]
           [--targets 1.886,1.55] [--times 10,20,30,45,60,90,120] [--ckpt_every 50]
           [--set recipe:key=value ...] [--ablation] [--clock wall|cpu]
           [--markdown OUT.md] [--svg OUT.svg] [--json OUT.json]

What is measured, for every recipe and seed:
  - training runs as `gpt train --config RECIPE --seed S --threads T`, writing a checkpoint every
    --ckpt_every steps (the run's own evaluations are switched off: evaluation happens afterwards, outside
    the clock); the time of a checkpoint = the run's elapsed_s at that step (metrics.jsonl), or with
    --clock cpu its cpu_s: the CPU seconds of the whole process, every thread (a measure that another
    process loading the machine does not inflate at 1 thread — "the best model per CPU-minute");
  - each checkpoint is then evaluated on the whole validation text with `gpt eval` (consecutive windows
    of block_size tokens: every character of the held-out text is predicted once);
  - the held-out text is nanoGPT's: the last 10 % of the characters, text[int(0.9·n):] (gpt-cpp's own
    split holds out the last ⌊0.1·n⌋ tokens: one character fewer, so training never sees the held-out
    text either way).
nanoGPT (--nanogpt DIR, a checkout; nothing of it is copied into this repository): its train.py, unmodified,
with its README's CPU command line, in a copy of the checkout under --work; the seed is offset through
torch.manual_seed (train.py seeds 1337 itself); always_save_checkpoint=True so that every one of its
evaluations (every 250 steps, as in its config) leaves a checkpoint, copied aside as the next log line
appears; its wall time is read from its own log lines as they arrive. PyTorch runs with the fastest
correct OpenBLAS kernels of the probe (bench/blas_probe.py), recorded in the output. Its clock starts at
its "step 0" line (after its imports and its first evaluation, as gpt-cpp's starts at its loop); its CPU
seconds are read from /proc/PID/stat as each line arrives. Its checkpoints are evaluated with its own
model class (model.py) on the same windows.
--ablation: one extra recipe per line of ABLATIONS, each the speedrun recipe with one piece reverted.
Benchmarks only: run it on an otherwise idle machine; never in tests or CI.
"""
import argparse
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import blas_probe  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NANOGPT_ARGS = ["config/train_shakespeare_char.py", "--device=cpu", "--compile=False", "--eval_iters=20",
                "--log_interval=1", "--block_size=64", "--batch_size=12", "--n_layer=4", "--n_head=4",
                "--n_embd=128", "--max_iters=2000", "--lr_decay_iters=2000", "--dropout=0.0"]
# Each: (name, the options that undo one piece of the speedrun recipe).
ABLATIONS = [
    ("no muon", ["--optimizer", "adamw"]),
    ("no rope", ["--pos_encoding", "learned"]),
    ("no qk_norm", ["--qk_norm", "false"]),
    ("gelu mlp", ["--mlp", "gelu"]),
    ("layernorm", ["--norm", "layernorm"]),
    ("tied head", ["--tie_embeddings", "true"]),
    ("cosine schedule", ["--lr_schedule", "cosine"]),
    ("no seq warm-up", ["--seq_warmup_start", "0", "--seq_warmup_iters", "0"]),
]


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def split_text(data, work):
    text = open(data, encoding="utf-8").read()
    val = text[int(len(text) * 0.9):]
    path = os.path.join(work, "val.txt")
    with open(path, "w", encoding="utf-8") as f:
        f.write(val)
    return path, len(text), len(val)


def gpt_run(args, name, config, extra, seed, val_path):
    out = os.path.join(args.work, f"{name.replace(' ', '_')}_s{seed}")
    shutil.rmtree(out, ignore_errors=True)
    cmd = [os.path.join(args.build, "gpt"), "train", "--config", config, "--data", args.data, "--seed", str(seed),
           "--threads", str(args.threads), "--out_dir", out, "--ckpt_interval", str(args.ckpt_every),
           "--keep_last", "100000", "--eval_interval", "100000000", "--eval_iters", "1",
           "--log_interval", str(args.ckpt_every), "--sample_tokens", "0", "--eval_sample_tokens", "0"] + extra
    log(f"[{name} seed {seed}] {' '.join(cmd)}")
    start = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.monotonic() - start
    if proc.returncode != 0:
        sys.exit(f"{name}: gpt train failed:\n{proc.stderr[-2000:]}")
    elapsed = {}
    with open(os.path.join(out, "metrics.jsonl")) as f:
        for line in f:
            record = json.loads(line)
            elapsed[record["step"]] = record["cpu_s" if args.clock == "cpu" else "elapsed_s"]
    points = []
    for ckpt in sorted(glob.glob(os.path.join(out, "ckpt_*.h5"))):
        match = re.search(r"ckpt_(\d+)\.h5$", ckpt)  # not ckpt_best.h5
        step = int(match.group(1)) if match else -1
        if step not in elapsed:
            continue
        ev = subprocess.run([os.path.join(args.build, "gpt"), "eval", "--checkpoint", ckpt, "--data", val_path,
                             "--threads", str(args.threads)], capture_output=True, text=True)
        if ev.returncode != 0:
            sys.exit(f"{name}: gpt eval failed: {ev.stderr}")
        points.append((elapsed[step], step, json.loads(ev.stdout)["loss"]))
        os.remove(ckpt)
    log(f"[{name} seed {seed}] {len(points)} checkpoints, final val {points[-1][2]:.4f} at {points[-1][0]:.1f} s "
        f"(process {wall:.1f} s)")
    return points


def nanogpt_run(args, seed, env, val_path):
    work = os.path.join(args.work, f"nanogpt_s{seed}")
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(args.nanogpt, work, ignore=shutil.ignore_patterns(".git", "out-*"))
    data_dir = os.path.join(work, "data", "shakespeare_char")
    shutil.copy(args.data, os.path.join(data_dir, "input.txt"))
    subprocess.run([sys.executable, "prepare.py"], cwd=data_dir, check=True, capture_output=True, env=env)
    offset = seed - 1337  # train.py calls torch.manual_seed(1337 + seed_offset)
    launcher = ("import sys, torch; _seed = torch.manual_seed; "
                f"torch.manual_seed = lambda s: _seed(s + {offset}); "
                "sys.argv = ['train.py'] + sys.argv[1:]; exec(compile(open('train.py').read(), 'train.py', 'exec'))")
    cmd = [sys.executable, "-u", "-c", launcher] + NANOGPT_ARGS + ["--always_save_checkpoint=True", "--out_dir=out"]
    log(f"[nanoGPT seed {seed}] python train.py {' '.join(NANOGPT_ARGS)} --always_save_checkpoint=True "
        f"(OPENBLAS_CORETYPE={env.get('OPENBLAS_CORETYPE', 'unset')})")
    start = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=work, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    snapshots, pending, last_step, origin = [], None, None, None
    for line in proc.stdout:
        now = cpu_seconds(proc.pid) if args.clock == "cpu" else time.monotonic() - start
        m = re.match(r"step (\d+): train loss", line)
        if m:
            last_step = int(m.group(1))
            if origin is None:
                origin = now
        now -= origin or 0.0
        if line.startswith("saving checkpoint"):
            pending = (now, last_step)
        if line.startswith("iter ") and pending is not None:  # the save before this line has finished
            copy = os.path.join(work, f"snap_{pending[1]}.pt")
            shutil.copy(os.path.join(work, "out", "ckpt.pt"), copy)
            snapshots.append((pending[0], pending[1], copy))
            pending = None
    if proc.wait() != 0:
        sys.exit("nanoGPT's train.py failed")
    wall = time.monotonic() - start
    if pending is not None:
        copy = os.path.join(work, f"snap_{pending[1]}.pt")
        shutil.copy(os.path.join(work, "out", "ckpt.pt"), copy)
        snapshots.append((pending[0], pending[1], copy))
    evaluator = os.path.join(ROOT, "bench", "nanogpt_eval.py")
    ev = subprocess.run([sys.executable, evaluator, work, val_path] + [s[2] for s in snapshots],
                        capture_output=True, text=True, env=env)
    if ev.returncode != 0:
        sys.exit(f"nanoGPT evaluation failed: {ev.stderr}")
    losses = json.loads(ev.stdout.strip().splitlines()[-1])  # model.py prints its parameter count first
    points = [(t, step, loss) for (t, step, _), loss in zip(snapshots, losses)]
    log(f"[nanoGPT seed {seed}] final val {points[-1][2]:.4f} at {points[-1][0]:.1f} s (process {wall:.1f} s)")
    return points


def cpu_seconds(pid):
    """User + system CPU seconds of a running process, every thread (/proc/PID/stat fields 14, 15)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def loss_at(points, t):
    best = None
    for when, _, loss in points:
        if when <= t:
            best = loss
    return best


def time_to(points, target):
    for when, _, loss in points:
        if loss <= target:
            return when
    return None


def fmt(x, digits=3):
    return "—" if x is None else f"{x:.{digits}f}"


def markdown(results, args, probe_rows, best, text_chars, val_chars):
    lines = [f"Tiny Shakespeare, character level: {text_chars:,} characters, the last {val_chars:,} held out "
             f"(nanoGPT's split); {args.threads} threads; CPU: {cpu_model()}; load average at start {args.load:.2f}.",
             f"Validation loss on the whole held-out text at each {'CPU time (process CPU seconds, every thread)' if args.clock == 'cpu' else 'wall time'} "
             "(seconds, training only); time to each target (— : not reached).", ""]
    head = "| recipe | seed | " + " | ".join(f"{t:g} s" for t in args.times) + " | final (step, s) | " + \
           " | ".join(f"to {g}" for g in args.targets) + " |"
    lines += [head, "|" + "---|" * (3 + len(args.times) + len(args.targets))]
    for name, runs in results.items():
        for seed, points in runs.items():
            final = points[-1]
            lines.append(f"| {name} | {seed} | " + " | ".join(fmt(loss_at(points, t)) for t in args.times) +
                         f" | {final[2]:.3f} ({final[1]}, {final[0]:.1f}) | " +
                         " | ".join(fmt(time_to(points, g), 1) + (" s" if time_to(points, g) else "") for g in args.targets) + " |")
    lines += ablation_table(results, args)
    if probe_rows:
        lines += ["", "PyTorch's BLAS for nanoGPT (bench/blas_probe.py, 2 threads):", "",
                  blas_probe.table(probe_rows, best)]
    return "\n".join(lines) + "\n"


def ablation_table(results, args):
    """Each piece reverted in turn, against the speedrun recipe: means over the seeds."""
    base = results.get("speedrun")
    rows = [(n, r) for n, r in results.items() if n.startswith("speedrun, ")]
    if not base or not rows:
        return []
    def means(runs):
        finals = [pts[-1] for pts in runs.values()]
        hits = [time_to(pts, args.targets[0]) for pts in runs.values()]
        reached = [h for h in hits if h is not None]
        return (sum(f[2] for f in finals) / len(finals), sum(f[0] for f in finals) / len(finals) / finals[0][1],
                sum(reached) / len(reached) if len(reached) == len(hits) else None, len(reached), len(hits))
    b = means(base)
    lines = ["", f"Ablation: the speedrun recipe with one piece reverted (means over {len(base)} seeds; time to "
             f"{args.targets[0]}: mean when every seed reached it).", "",
             f"| recipe | final loss | Δ loss vs speedrun | ms/step | Δ step time | to {args.targets[0]} |",
             "|---|---|---|---|---|---|"]
    for name, runs in [("speedrun", base)] + rows:
        m = means(runs)
        to = f"{m[2]:.1f} s" if m[2] is not None else f"— ({m[3]}/{m[4]} seeds)"
        delta = "" if name == "speedrun" else f"{m[0] - b[0]:+.3f}"
        dstep = "" if name == "speedrun" else f"{100 * (m[1] / b[1] - 1):+.0f} %"
        lines.append(f"| {name} | {m[0]:.3f} | {delta} | {1e3 * m[1]:.1f} | {dstep} | {to} |")
    return lines


def svg(results, args):
    """Loss against time, one polyline per run (recipes by colour, seeds dashed)."""
    W, H, L, B = 760, 420, 60, 40
    colours = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#7f7f7f", "#17becf",
               "#bcbd22", "#393b79"]
    all_points = [p for runs in results.values() for pts in runs.values() for p in pts]
    t_max = max(p[0] for p in all_points) * 1.02
    y_lo = min(min(p[2] for p in all_points), min(args.targets)) - 0.05
    y_hi = min(3.0, max(p[2] for p in all_points))
    x = lambda t: L + (W - L - 20) * t / t_max
    y = lambda v: 20 + (H - B - 20) * (y_hi - min(v, y_hi)) / (y_hi - y_lo)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
           f'<rect width="{W}" height="{H}" fill="white"/>',
           f'<line x1="{L}" y1="{H - B}" x2="{W - 20}" y2="{H - B}" stroke="black"/>',
           f'<line x1="{L}" y1="20" x2="{L}" y2="{H - B}" stroke="black"/>',
           f'<text x="{W / 2}" y="{H - 6}" text-anchor="middle">{"CPU" if args.clock == "cpu" else "wall"} time, s ({args.threads} threads)</text>',
           f'<text x="14" y="{H / 2}" transform="rotate(-90 14 {H / 2})" text-anchor="middle">val loss (whole held-out text)</text>']
    step = 10 if t_max < 120 else 30 if t_max < 400 else 120 if t_max < 1500 else 300
    for t in range(0, int(t_max) + 1, step):
        out.append(f'<text x="{x(t):.1f}" y="{H - B + 14}" text-anchor="middle">{t}</text>')
    v = round(y_lo, 1)
    while v <= y_hi:
        out.append(f'<text x="{L - 6}" y="{y(v) + 4:.1f}" text-anchor="end">{v:.1f}</text>')
        out.append(f'<line x1="{L}" y1="{y(v):.1f}" x2="{W - 20}" y2="{y(v):.1f}" stroke="#eee"/>')
        v = round(v + 0.1, 1)
    for g in args.targets:
        out.append(f'<line x1="{L}" y1="{y(g):.1f}" x2="{W - 20}" y2="{y(g):.1f}" stroke="#999" stroke-dasharray="2,3"/>')
        out.append(f'<text x="{W - 22}" y="{y(g) - 3:.1f}" text-anchor="end" fill="#666">target {g}</text>')
    for i, (name, runs) in enumerate(results.items()):
        c = colours[i % len(colours)]
        for j, (seed, pts) in enumerate(runs.items()):
            path = " ".join(f"{x(p[0]):.1f},{y(p[2]):.1f}" for p in pts)
            dash = ' stroke-dasharray="5,3"' if j else ""
            out.append(f'<polyline points="{path}" fill="none" stroke="{c}" stroke-width="1.6"{dash}/>')
        out.append(f'<rect x="{W - 200}" y="{28 + 16 * i}" width="12" height="3" fill="{c}"/>')
        out.append(f'<text x="{W - 184}" y="{33 + 16 * i}">{name}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def write_svgs(results, args):
    """--svg: the recipes and nanoGPT; with ablation runs, also <svg>_ablation.svg: the speedrun recipe and
    each ablation."""
    if not args.svg:
        return
    main = {n: r for n, r in results.items() if not n.startswith("speedrun, ")}
    with open(args.svg, "w") as f:
        f.write(svg(main, args))
    ablations = {n: r for n, r in results.items() if n == "speedrun" or n.startswith("speedrun, ")}
    if len(ablations) > 1:
        with open(os.path.splitext(args.svg)[0] + "_ablation.svg", "w") as f:
            f.write(svg(ablations, args))


def cpu_model():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return "unknown"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True)
    parser.add_argument("--build", default=os.path.join(ROOT, "build"))
    parser.add_argument("--recipes", default="plain=configs/shakespeare_char.toml,"
                                             "speedrun=configs/shakespeare_char_speedrun.toml")
    parser.add_argument("--seeds", default="1337,1338")
    parser.add_argument("--nanogpt")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--work", default="/tmp/gpt_speedrun")
    parser.add_argument("--targets", default="1.886,1.55")
    parser.add_argument("--times", default="10,20,30,45,60,90,120")
    parser.add_argument("--ckpt_every", type=int, default=50)
    parser.add_argument("--set", action="append", default=[], help="RECIPE:--option=value, an extra option for one recipe")
    parser.add_argument("--ablation", action="store_true")
    parser.add_argument("--clock", choices=["wall", "cpu"], default="wall")
    parser.add_argument("--markdown")
    parser.add_argument("--svg")
    parser.add_argument("--json")
    parser.add_argument("--replot", help="redraw --svg (and --markdown) from a --json of an earlier run; trains nothing")
    args = parser.parse_args()
    args.targets = [float(v) for v in args.targets.split(",")]
    args.times = [float(v) for v in args.times.split(",")]
    args.data = os.path.abspath(args.data)
    with open("/proc/loadavg") as f:
        args.load = float(f.read().split()[0])
    if args.replot:
        with open(args.replot) as f:
            results = {name: {int(s): [tuple(p) for p in pts] for s, pts in runs.items()} for name, runs in json.load(f).items()}
        write_svgs(results, args)
        if args.markdown:
            with open(args.markdown, "w") as f:
                f.write("\n".join(ablation_table(results, args)) + "\n")
        return
    os.makedirs(args.work, exist_ok=True)
    val_path, text_chars, val_chars = split_text(args.data, args.work)
    recipes = []
    for item in args.recipes.split(","):
        name, config = item.split("=", 1)
        extra = [opt for s in args.set if s.startswith(name + ":") for opt in s.split(":", 1)[1].split("=", 1)]
        recipes.append((name, os.path.join(ROOT, config) if not os.path.isabs(config) else config, extra))
    if args.ablation:
        speedrun = next(r for r in recipes if r[0] == "speedrun")
        recipes += [(f"speedrun, {n}", speedrun[1], speedrun[2] + opts) for n, opts in ABLATIONS]
    seeds = [int(s) for s in args.seeds.split(",")]
    results = {}
    for name, config, extra in recipes:
        results[name] = {seed: gpt_run(args, name, config, extra, seed, val_path) for seed in seeds}
    probe_rows, best = [], ""
    if args.nanogpt:
        probe_rows, best = blas_probe.probe(sys.executable, args.threads)
        env = blas_probe.torch_env(best, args.threads)
        results["nanoGPT (PyTorch " + (best or "default BLAS") + ")"] = {
            seed: nanogpt_run(args, seed, env, val_path) for seed in seeds}
    text = markdown(results, args, probe_rows, best, text_chars, val_chars)
    print(text)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(text)
    write_svgs(results, args)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({name: {str(s): pts for s, pts in runs.items()} for name, runs in results.items()}, f, indent=1)


if __name__ == "__main__":
    main()
