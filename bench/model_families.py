#!/usr/bin/env python3
"""The toy-task study of docs/model_families.md: the encoder-decoder Transformer (model = transformer,
configs/toy_<task>.toml) against a decoder-only GPT of about the same parameter count trained on the
same pairs written as `source=target` lines, with the same steps, batch size, learning rate and
schedule. Both are scored on the first N lines of the task's test.tsv (sources never seen in training):
exact match of the greedy output (gpt eval for the encoder-decoder; gpt sample --temperature 0 with the
prompt "\\nsource=" up to the next newline for the GPT), and training tokens/s (metrics.jsonl; the
encoder-decoder counts batch_size x block_size decoder positions per step, padding included, the GPT
batch_size x block_size window tokens).

Usage: python3 bench/model_families.py [--build build] [--work /tmp/model_families] [--tasks reverse,numbers]
                                       [--max_iters 2000] [--examples 300] [--threads 1]
Prints one Markdown table row per (task, model) and writes WORK/results.json.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# A GPT of about the encoder-decoder's parameter count (2 + 2 layers of width 64, feed-forward 256:
# about 235k): 5 blocks of width 64 (about 250k with its positions).
GPT_SHAPE = ["--n_layer", "5", "--n_head", "4", "--n_embd", "64", "--dropout", "0.0", "--bias", "true"]
GPT_BLOCK = {"reverse": 32, "numbers": 80}  # the longest line (26, 72 characters) fits


def run(cmd, log):
    start = time.time()
    with open(log, "w") as out:
        rc = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT).returncode
    if rc != 0:
        sys.exit(f"model_families: {' '.join(cmd)} failed (rc {rc}); see {log}")
    return time.time() - start


def parameters(log):
    m = re.search(r"gpt train: (?:model \w+, )?(\d+) parameters", open(log).read())
    return int(m.group(1)) if m else -1


def tokens_per_s(metrics):
    rates = [json.loads(line)["tokens_per_s"] for line in open(metrics)]
    return sum(rates) / len(rates)


def test_pairs(path, n):
    pairs = []
    for line in open(path):
        source, target = line.rstrip("\n").split("\t")
        pairs.append((source, target))
    return pairs[:n]


def gpt_exact_match(gpt, run_dir, pairs, threads):
    correct = 0
    for source, target in pairs:
        out = subprocess.run([gpt, "sample", "--checkpoint", run_dir, "--prompt", "\n" + source + "=",
                              "--temperature", "0", "--max_new_tokens", "80", "--stop", "\n", "--threads", str(threads)],
                             capture_output=True, text=True)
        text = out.stdout
        # gpt sample prints the prompt and the continuation; the answer is what follows "source=".
        answer = text.split(source + "=", 1)[1] if source + "=" in text else text
        correct += answer.strip("\n") == target
    return correct / len(pairs)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--build", default=os.path.join(ROOT, "build"))
    p.add_argument("--work", default="/tmp/model_families")
    p.add_argument("--tasks", default="reverse,numbers")
    p.add_argument("--max_iters", type=int, default=2000)
    p.add_argument("--examples", type=int, default=300)
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args()
    gpt = os.path.join(a.build, "gpt")
    os.makedirs(a.work, exist_ok=True)
    subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "toy_tasks.py"), "--out", os.path.join(a.work, "toy"),
                    "--tasks", a.tasks], check=True, stdout=subprocess.DEVNULL)
    results = []
    print("| task | model | parameters | steps | train time | tokens/s | held-out exact match |")
    print("|---|---|---|---|---|---|---|")
    for task in a.tasks.split(","):
        data = os.path.join(a.work, "toy", task)
        pairs = test_pairs(os.path.join(data, "test.tsv"), a.examples)
        common = ["--max_iters", str(a.max_iters), "--threads", str(a.threads), "--sample_tokens", "0",
                  "--eval_sample_tokens", "0"]
        # Encoder-decoder.
        ed_dir = os.path.join(a.work, f"ed_{task}")
        seconds = run([gpt, "train", "--config", os.path.join(ROOT, "configs", f"toy_{task}.toml"), "--data",
                       os.path.join(data, "train.tsv"), "--out_dir", ed_dir, "--overwrite", "true"] + common,
                      os.path.join(a.work, f"ed_{task}.log"))
        out = subprocess.run([gpt, "eval", "--checkpoint", ed_dir, "--data", os.path.join(data, "test.tsv"),
                              "--max_examples", str(a.examples), "--threads", str(a.threads)],
                             capture_output=True, text=True, check=True).stdout
        ed = {"task": task, "model": "encoder-decoder", "parameters": parameters(os.path.join(a.work, f"ed_{task}.log")),
              "seconds": seconds, "tokens_per_s": tokens_per_s(os.path.join(ed_dir, "metrics.jsonl")),
              "exact_match": json.loads(out)["exact_match"]}
        # Decoder-only GPT on "source=target" lines.
        text = os.path.join(a.work, f"gpt_{task}.txt")
        with open(os.path.join(data, "train.tsv")) as f, open(text, "w") as out_file:
            for line in f:
                out_file.write(line.replace("\t", "=", 1))
        gpt_dir = os.path.join(a.work, f"gpt_{task}")
        config = os.path.join(ROOT, "configs", f"toy_{task}.toml")
        seconds = run([gpt, "train", "--data", text, "--out_dir", gpt_dir, "--overwrite", "true", "--tokenizer", "char",
                       "--block_size", str(GPT_BLOCK[task]), "--batch_size", "32", "--lr", "0.001",
                       "--warmup_iters", "200", "--weight_decay", "0.01", "--eval_interval", "250", "--eval_iters", "10",
                       "--log_interval", "50", "--val_fraction", "0.02"] + GPT_SHAPE + common,
                      os.path.join(a.work, f"gpt_{task}.log"))
        g = {"task": task, "model": "GPT (source=target)", "parameters": parameters(os.path.join(a.work, f"gpt_{task}.log")),
             "seconds": seconds, "tokens_per_s": tokens_per_s(os.path.join(gpt_dir, "metrics.jsonl")),
             "exact_match": gpt_exact_match(gpt, gpt_dir, pairs, a.threads)}
        for r in (ed, g):
            results.append(r)
            print(f"| {r['task']} | {r['model']} | {r['parameters']:,} | {a.max_iters} | {r['seconds']:.0f} s | "
                  f"{r['tokens_per_s']:,.0f} | {100 * r['exact_match']:.1f} % ({a.examples} lines) |", flush=True)
    with open(os.path.join(a.work, "results.json"), "w") as f:
        json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
