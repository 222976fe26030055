"""bench/RESULTS.md's current tables, from one command: training speed against the strongest peers this
machine can run, memory of a GPT-2 124M fine-tune through its checkpoint writes, `gpt train` against
`gpt_bench`, bf16 decoding, the Amdahl table, and each target of issue 30 met or missed with its ratio.

usage: /usr/bin/python3 bench/results.py [--build build] [--nanogpt DIR] [--llmc DIR] [--data FILE]
                                         [--out bench/RESULTS.md] [--skip amdahl,llmc,...]

What it runs, in order (each a script of its own, readable alone):
  speed    bench/run.py --configs baby,small --threads 1,2 --kernels native,avx2 [--nanogpt DIR]: the
           project's gpt_bench against PyTorch's own modules (bench/reference_train.py) on the fastest
           correct OpenBLAS kernels of the installed torch (bench/blas_probe.py; its table is printed), and
           nanoGPT's model class when a checkout is given; same run, alternating.
  gpt2     bench/run.py --configs gpt2 --threads 2: the GPT-2 124M shape against PyTorch.
  llmc     bench/llmc.py --llmc DIR: llm.c's train_gpt2 on the same random GPT-2 124M (needs --llmc).
  memory   `gpt train` of the 124M shape with AdamW inside backward, three checkpoint writes against one
           final save, peak RSS of each (ru_maxrss), beside gpt_bench's steps alone; the per-step time of
           `gpt train --log_interval 1` (metrics.jsonl) against gpt_bench's.
  decode   gpt_bench decode_weights: cached decoding of the 124M shape at batch 1, float32 vs bf16 weights.
  amdahl   bench/amdahl.py --configs baby,small,gpt2: serial time, parallel regions, predicted efficiency.
The markdown goes between the markers `<!-- results.py begin -->` and `<!-- results.py end -->` of --out
(the rest of the file, the history of earlier sessions, is kept). GOMP_SPINCOUNT is set to libgomp's own
default (300000) for the project's runs, so that `gpt train`'s busy-machine detection (common/threads.h)
cannot pick a different wait policy from one run to the next. Benchmarks only: run on an idle machine;
never in tests or CI.
"""
import argparse
import datetime
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PY = "/usr/bin/python3"
BEGIN, END = "<!-- results.py begin -->", "<!-- results.py end -->"
GPT2_TRAIN = ["--tokenizer", "char", "--vocab_pad", "50304", "--n_layer", "12", "--n_head", "12", "--n_embd", "768",
              "--block_size", "64", "--batch_size", "4", "--dropout", "0", "--grad_clip", "0",
              "--optimizer_in_backward", "true", "--max_iters", "6", "--eval_interval", "1000", "--eval_iters", "1",
              "--log_interval", "1", "--sample_tokens", "0", "--eval_sample_tokens", "0", "--threads", "2",
              "--warmup_iters", "0"]


def env_for_project():
    env = dict(os.environ)
    env["GOMP_SPINCOUNT"] = "300000"
    return env


def run(cmd, env=None):
    """stdout of cmd; exits with its stderr if it fails."""
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return proc.stdout


def peak_rss_mib(cmd, env):
    """(stdout, peak RSS MiB of cmd alone): a fresh wrapper process per run, as bench/run.py does."""
    wrapper = ("import resource,subprocess,sys;r=subprocess.run(sys.argv[1:],stdout=sys.stdout);"
               "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,file=sys.stderr);sys.exit(r.returncode)")
    proc = subprocess.run([sys.executable, "-c", wrapper] + cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return proc.stdout, int(proc.stderr.strip().splitlines()[-1]) / 1024.0


def speed(args, configs, threads, kernels, extra):
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        path = f.name
    cmd = [PY, os.path.join(HERE, "run.py"), args.build, "--configs", configs, "--threads", threads, "--kernels",
           kernels, "--json", path] + extra + (["--data", args.data] if args.data else [])
    text = run(cmd)
    with open(path) as f:
        return text, json.load(f)


def ratio(data, config, threads, kernels="native", peer="pytorch"):
    for row in data["rows"]:
        if (row["config"], row["threads"], row["kernels"]) == (config, threads, kernels):
            sides = {s["side"]: s for s in row["sides"]}
            if peer in sides:
                return sides[peer]["result"]["ms"] / sides["project"]["result"]["ms"]
    return None


def percent_of_peak(data, config, threads):
    for row in data["rows"]:
        if (row["config"], row["threads"], row["kernels"]) == (config, threads, "native"):
            r = row["sides"][0]["result"]
            gflops = r["tokens_per_step"] / (r["ms"] / 1e3) * r["flops_per_token"] / 1e9
            peak = data["peaks"][str(threads)]
            return 100 * gflops / (peak["avx512_gflops"] or peak["avx2_gflops"])
    return None


def memory(args, work):
    """Peak RSS of the 124M fine-tune with 3 checkpoint writes and with 1 save; gpt_bench's steps alone;
    the per-step time of gpt train against gpt_bench."""
    gpt, bench, env = os.path.join(args.build, "gpt"), os.path.join(args.build, "gpt_bench"), env_for_project()
    data = args.data or "/usr/share/games/fortunes/computers"
    out = {}
    for name, interval in (("three", "2"), ("one", "1000")):
        run_dir = os.path.join(work, f"gpt2_{name}")
        subprocess.run(["rm", "-rf", run_dir])
        _, out[name] = peak_rss_mib([gpt, "train", "--data", data, "--out_dir", run_dir, "--ckpt_interval", interval]
                                    + GPT2_TRAIN, env)
        if name == "one":
            with open(os.path.join(run_dir, "metrics.jsonl")) as f:
                times = [json.loads(line)["elapsed_s"] for line in f if '"train_loss"' in line]
            out["train_ms"] = statistics.median(b - a for a, b in zip(times[1:], times[2:])) * 1e3
    text, out["bench"] = peak_rss_mib([bench, "train", "--config", "gpt2", "--threads", "2", "--steps", "4", "--warmup",
                                       "1", "--optimizer_in_backward"], env)
    out["bench_ms"] = json.loads(text.strip().splitlines()[-1])["ms"]
    return out


def decode(args):
    text = run([os.path.join(args.build, "gpt_bench"), "decode_weights", "--threads", "2"], env_for_project())
    return json.loads(text.strip().splitlines()[-1])


def verdict(name, value, target, unit="×", higher=True):
    if value is None:
        return f"| {name} | not measured | {target}{unit} | — |"
    met = value >= target if higher else value <= target
    return f"| {name} | {value:.3f}{unit} | {'≥' if higher else '≤'} {target}{unit} | {'met' if met else 'missed'} |"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--nanogpt")
    ap.add_argument("--llmc")
    ap.add_argument("--data")
    ap.add_argument("--out", default=os.path.join(HERE, "RESULTS.md"))
    ap.add_argument("--skip", default="", help="comma list of speed, gpt2, llmc, memory, decode, amdahl")
    ap.add_argument("--work", default="/tmp/gpt_results")
    args = ap.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    os.makedirs(args.work, exist_ok=True)
    commit = run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"]).strip()
    started = datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M UTC")
    parts = [f"## Current results ({started}, commit {commit}; `{' '.join(['python3', 'bench/results.py'] + sys.argv[1:])}`)",
             "", f"Load average at the start: {os.getloadavg()[0]:.2f}; {os.cpu_count()} CPUs. Generated by "
             "bench/results.py (its docstring says what each part runs); everything below this heading up to the "
             "next one is its output.", ""]
    speed_data = gpt2_data = mem = dec = None
    if "speed" not in skip:
        text, speed_data = speed(args, "baby,small", "1,2", "native,avx2", ["--nanogpt", args.nanogpt] if args.nanogpt else [])
        parts += ["### Training speed, baby and small, 1 and 2 threads", "", text]
    if "gpt2" not in skip:
        text, gpt2_data = speed(args, "gpt2", "2", "native", ["--small_steps", "3", "--warmup", "1"])
        parts += ["### The GPT-2 124M shape, 2 threads", "", text]
    if "llmc" not in skip and args.llmc:
        parts += ["### llm.c's CPU trainer (GPT-2 124M, same random weights)", "",
                  run([PY, os.path.join(HERE, "llmc.py"), "--llmc", args.llmc, "--build", args.build]), ""]
    if "memory" not in skip:
        mem = memory(args, args.work)
        parts += ["### GPT-2 124M fine-tune: peak RSS through checkpoint writes, and `gpt train` against `gpt_bench`", "",
                  "`gpt train " + " ".join(GPT2_TRAIN) + "` (6 steps, random init, 123.7 M parameters), peak RSS by "
                  "ru_maxrss; each checkpoint is a 1.6 GB ckpt.h5 (weights + AdamW moments).", "",
                  "| run | peak RSS MiB | per step ms (median) |", "|---|---|---|",
                  f"| gpt train, 3 checkpoint writes (--ckpt_interval 2) | {mem['three']:.0f} | |",
                  f"| gpt train, 1 save (the final one) | {mem['one']:.0f} | {mem['train_ms']:.0f} |",
                  f"| gpt_bench train --config gpt2 --optimizer_in_backward (steps only) | {mem['bench']:.0f} | "
                  f"{mem['bench_ms']:.0f} |", ""]
    if "decode" not in skip:
        dec = decode(args)
        parts += ["### Cached decoding, GPT-2 124M shape, batch 1, 2 threads (`gpt_bench decode_weights`)", "",
                  "```", json.dumps(dec), "```", ""]
    if "amdahl" not in skip:
        parts += ["### Amdahl table (`bench/amdahl.py --configs baby,small,gpt2`)", "",
                  run([PY, os.path.join(HERE, "amdahl.py"), args.build, "--configs", "baby,small,gpt2"]), ""]
    parts += ["### Issue 30's targets", "", "| target | measured | wanted | |", "|---|---|---|---|"]
    if speed_data:
        for config in ("baby", "small"):
            parts.append(verdict(f"{config}, 2 threads, against PyTorch (best BLAS)", ratio(speed_data, config, 2), 2.0))
            parts.append(verdict(f"{config}, 1 thread, against PyTorch (best BLAS)", ratio(speed_data, config, 1), 1.5))
        for threads in (1, 2):
            parts.append(verdict(f"small, {threads} thread(s): % of the measured fp32 ceiling",
                                 percent_of_peak(speed_data, "small", threads), 75.0, " %"))
    if mem:
        parts.append(verdict(f"124M fine-tune peak RSS with 3 checkpoint writes ({mem['three'] / 1024:.2f} GiB)",
                             mem["three"] * 1.048576 / 1000, 2.0, " GB", False))
        parts.append(verdict("124M fine-tune: peak RSS with 3 checkpoint writes / with 1 save", mem["three"] / mem["one"], 1.05, "×", False))
        parts.append(verdict("gpt train per step / gpt_bench per step", mem["train_ms"] / mem["bench_ms"], 1.10, "×", False))
    if dec and "wall_ratio" in dec:
        parts.append(verdict("bf16 / float32 decoding tokens/s", dec["wall_ratio"], 1.7))
    markdown = "\n".join(parts).rstrip() + "\n"
    old = open(args.out).read() if os.path.exists(args.out) else ""
    if BEGIN in old and END in old:
        new = old[:old.index(BEGIN) + len(BEGIN)] + "\n" + markdown + old[old.index(END):]
    else:
        title, _, rest = old.partition("\n")
        new = f"{title}\n\n{BEGIN}\n{markdown}{END}\n{rest}"
    with open(args.out, "w") as f:
        f.write(new)
    print(markdown)


if __name__ == "__main__":
    main()
