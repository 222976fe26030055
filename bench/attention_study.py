#!/usr/bin/env python3
"""The attention study of docs/attention.md: MHA, GQA-2, MQA and MLA (two latent sizes) × learned/rope
positions on Tiny Shakespeare (char level), the same model, steps, batch and learning rate for every row.

    bash scripts/get_data.sh                      # datasets/tinyshakespeare.txt
    cmake --build build --target gpt gpt_bench
    flock /tmp/bench.lock python3 bench/attention_study.py [--steps 200] [--seeds 1 2] [--out runs/attention_study]

Per run: `gpt train` (validation loss at the end, parameters; the run's own wall-clock ms/step is kept as
run_ms_per_step). Then, once every row is trained, timings per row in CPU time on one thread (wall time
on a shared machine measures the other load as much as this code): `gpt_bench train_time` (median
forward + backward ms/step at the study's batch) and `gpt_bench decode` (cached generation tokens per
CPU second with the cache at the block_size context, 64, and at 256 — the same shape with a 256 window
and random weights: a step's cost does not depend on the weights — and the cache's allocated bytes per
token). Writes OUT/results.json, prints the Markdown table, and draws docs/attention_study.svg
(validation loss against KV-cache bytes per token). --timing_only re-times the rows of OUT/results.json.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The model every row shares (4 layers, 4 heads of 32, C 128, block 64) and its training budget.
BASE = dict(n_layer=4, n_head=4, n_embd=128, block_size=64, batch_size=4, lr=2e-3, min_lr=2e-4,
            warmup_iters=20, weight_decay=0.1, grad_clip=1.0, dropout=0.0, beta2=0.99)
VARIANTS = [  # name, attention options
    ("MHA", dict()),
    ("GQA-2", dict(n_kv_head=2)),
    ("MQA", dict(n_kv_head=1)),
    ("MLA d_c=32", dict(attention="mla", kv_latent_dim=32)),
    ("MLA d_c=128", dict(attention="mla", kv_latent_dim=128)),
]


def run(cmd, both=False):
    result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"attention_study: {' '.join(cmd)} failed ({result.returncode}):\n{result.stderr[-2000:]}")
    return result.stdout + result.stderr if both else result.stdout


def train(args, name, options, pos, seed):
    out_dir = os.path.join(args.out, f"{re.sub('[^A-Za-z0-9]+', '_', name)}_{pos}_s{seed}")
    opts = dict(BASE, **options, pos_encoding=pos, seed=seed, max_iters=args.steps, lr_decay_iters=args.steps,
                eval_interval=args.steps, eval_iters=args.eval_iters, log_interval=25, threads=args.threads,
                sample_tokens=0, out_dir=out_dir, data=args.data, tokenizer="char")
    cmd = [args.gpt, "train"]
    for k, v in opts.items():
        cmd += [f"--{k}", str(v)]
    if os.path.exists(out_dir):
        subprocess.run(["rm", "-rf", out_dir], check=True)
    output = run(cmd, both=True)
    params = int(re.search(r"gpt train: (\d+) parameters", output).group(1))
    records = [json.loads(line) for line in open(os.path.join(out_dir, "metrics.jsonl"))]
    val = [r["val_loss"] for r in records if "val_loss" in r][-1]
    tokens_per_step = BASE["batch_size"] * BASE["block_size"]
    speeds = [r["tokens_per_s"] for r in records if r.get("tokens_per_s") and r["step"] > 0]
    ms_per_step = 1000.0 * tokens_per_step / statistics.median(speeds)  # the run's own (loaded machine)
    return out_dir, dict(params=params, val_loss=val, run_ms_per_step=ms_per_step)


def decode(args, out_dir, context):
    line = run([args.bench, "decode", "--checkpoint", os.path.join(out_dir, "ckpt.h5"), "--context", str(context),
                "--steps", "48", "--threads", "1"])
    return json.loads(line)


def timings(args, out_dir):
    """CPU-time measurements on one thread (on a shared machine wall time measures the other load as much
    as this code): median forward + backward ms per step at the study's batch, and cached decoding
    tokens per CPU second (48 steps) at block_size and at 256 context."""
    train = json.loads(run([args.bench, "train_time", "--checkpoint", os.path.join(out_dir, "ckpt.h5"),
                            "--batch", str(BASE["batch_size"]), "--steps", "15", "--threads", "1"]))
    full, long = decode(args, out_dir, BASE["block_size"]), decode(args, out_dir, 256)
    return dict(train_ms_per_step=train["median_ms"], train_ms_best=train["best_ms"],
                gen_tok_s_block=full["tokens_per_s"], gen_tok_s_256=long["tokens_per_s"],
                kv_bytes_per_token=full["kv_bytes_per_token"])


def svg_plot(rows, path):
    """Validation loss (mean over seeds) against KV-cache bytes per token, one marker per row."""
    W, H, L, R, T, B = 640, 400, 70, 170, 30, 50
    xs = [r["kv_bytes_per_token"] for r in rows]
    ys = [r["val_loss"] for r in rows]
    x0, x1 = 0, max(xs) * 1.08
    y0, y1 = min(ys) - 0.02, max(ys) + 0.02
    px = lambda x: L + (x - x0) / (x1 - x0) * (W - L - R)
    py = lambda y: T + (y1 - y) / (y1 - y0) * (H - T - B)
    colours = {"MHA": "#1f77b4", "GQA-2": "#2ca02c", "MQA": "#d62728", "MLA d_c=32": "#9467bd", "MLA d_c=128": "#ff7f0e"}
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
           f'<rect width="{W}" height="{H}" fill="white"/>',
           f'<line x1="{L}" y1="{H-B}" x2="{W-R}" y2="{H-B}" stroke="black"/>',
           f'<line x1="{L}" y1="{T}" x2="{L}" y2="{H-B}" stroke="black"/>',
           f'<text x="{(L+W-R)/2}" y="{H-12}" text-anchor="middle">KV-cache bytes per token (fp32, all layers)</text>',
           f'<text x="16" y="{(T+H-B)/2}" text-anchor="middle" transform="rotate(-90 16 {(T+H-B)/2})">validation loss</text>']
    for i in range(5):
        x = x0 + (x1 - x0) * i / 4
        y = y0 + (y1 - y0) * i / 4
        out.append(f'<text x="{px(x):.0f}" y="{H-B+16}" text-anchor="middle">{x:.0f}</text>')
        out.append(f'<text x="{L-6}" y="{py(y)+4:.0f}" text-anchor="end">{y:.3f}</text>')
    for r in rows:
        c = colours.get(r["attention"], "black")
        cx, cy = px(r["kv_bytes_per_token"]), py(r["val_loss"])
        if r["pos"] == "rope":
            out.append(f'<rect x="{cx-5:.1f}" y="{cy-5:.1f}" width="10" height="10" fill="{c}"/>')
        else:
            out.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="5" fill="none" stroke="{c}" stroke-width="2"/>')
    for i, (name, c) in enumerate(colours.items()):
        out.append(f'<rect x="{W-R+15}" y="{T+i*18}" width="10" height="10" fill="{c}"/>'
                   f'<text x="{W-R+30}" y="{T+i*18+9}">{name}</text>')
    out.append(f'<circle cx="{W-R+20}" cy="{T+110}" r="5" fill="none" stroke="black" stroke-width="2"/>'
               f'<text x="{W-R+30}" y="{T+114}">learned</text>')
    out.append(f'<rect x="{W-R+15}" y="{T+123}" width="10" height="10" fill="black"/><text x="{W-R+30}" y="{T+132}">rope</text>')
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    p.add_argument("--eval_iters", type=int, default=40)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--data", default="datasets/tinyshakespeare.txt")
    p.add_argument("--out", default="runs/attention_study")
    p.add_argument("--gpt", default=os.path.join(ROOT, "build", "gpt"))
    p.add_argument("--bench", default=os.path.join(ROOT, "build", "gpt_bench"))
    p.add_argument("--plot", default=os.path.join(ROOT, "docs", "attention_study.svg"))
    p.add_argument("--only", nargs="*", help="variant names to run (default: all)")
    p.add_argument("--timing_only", action="store_true",
                   help="re-measure the timings of OUT/results.json's runs")
    args = p.parse_args()
    if not os.path.exists(os.path.join(ROOT, args.data)):
        sys.exit(f"attention_study: {args.data} is missing; run `bash scripts/get_data.sh` first")
    os.makedirs(os.path.join(ROOT, args.out), exist_ok=True)
    rows = []
    results = os.path.join(ROOT, args.out, "results.json")
    if args.timing_only:  # re-time the trained rows of an earlier run of this script
        earlier = json.load(open(results))
        rows, args.seeds, args.steps = earlier["rows"], earlier["seeds"], earlier["steps"]
    for pos in ("learned", "rope") if not args.timing_only else ():
        for name, options in VARIANTS:
            if args.only and name not in args.only:
                continue
            per_seed = []
            for i, seed in enumerate(args.seeds):
                out_dir, r = train(args, name, options, pos, seed)
                per_seed.append(r)
                print(f"  {name:12s} {pos:8s} seed {seed}: val {r['val_loss']:.4f}", file=sys.stderr, flush=True)
            row = dict(per_seed[0], attention=name, pos=pos, val_losses=[r["val_loss"] for r in per_seed],
                       dir=out_dir)
            row["val_loss"] = statistics.mean(row["val_losses"])
            rows.append(row)
    for row in rows:  # timings do not depend on the seed or the weights: once per row, after training
        new = timings(args, row["dir"])
        row.update(new)
    with open(results, "w") as f:
        json.dump(dict(base=BASE, steps=args.steps, seeds=args.seeds, rows=rows), f, indent=1)
    print(f"| attention | positions | val loss (seeds {', '.join(map(str, args.seeds))}) | params | fwd+bwd CPU ms/step | "
          f"KV bytes/token | gen tok/s @{BASE['block_size']} (block_size) | gen tok/s @256 |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        losses = " / ".join(f"{v:.3f}" for v in r["val_losses"])
        print(f"| {r['attention']} | {r['pos']} | {r['val_loss']:.3f} ({losses}) | {r['params']:,} | "
              f"{r['train_ms_per_step']:.0f} | {r['kv_bytes_per_token']:,} | {r['gen_tok_s_block']:.0f} | "
              f"{r['gen_tok_s_256']:.0f} |")
    if not args.only:
        svg_plot(rows, args.plot)


if __name__ == "__main__":
    main()
