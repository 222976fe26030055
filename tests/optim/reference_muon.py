#!/usr/bin/env python3
"""PyTorch reference for tests/optim/test_muon.cpp: Muon as published (Keller Jordan, 2024,
github.com/KellerJordan/Muon: momentum, Nesterov, the quintic Newton-Schulz iteration, the
sqrt(max(1, rows/cols)) scale, decoupled weight decay), written here from the algorithm in torch, in
float32 (the C++ optimizer's precision; the published code uses bfloat16 on a GPU) and float64.

usage: reference_muon.py INPUT OUTPUT   (tests/reference_text.py's format)
INPUT:  hyper [lr, momentum, nesterov, ns_steps, a, b, c, weight_decay, steps];
        param.<name> [rows, cols]; grad.<step>.<name> [rows, cols]
OUTPUT: f32.<name>, f64.<name>: each parameter after the last step.
Exit status 77 when torch cannot be imported.
"""
import os
import sys

try:
    import torch
except ImportError:
    sys.exit(77)
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from reference_text import read_tensors, write_tensors  # noqa: E402


def newton_schulz(G, steps, a, b, c):
    X = G / (G.norm() + 1e-7)
    tall = G.size(0) > G.size(1)
    if tall:
        X = X.T
    for _ in range(steps):
        A = X @ X.T
        B = b * A + c * A @ A
        X = a * X + B @ X
    if tall:
        X = X.T
    return X


def run(params, grads, hyper, dtype):
    lr, momentum, nesterov, ns_steps, a, b, c, wd, steps = hyper
    p = {n: v.to(dtype).clone() for n, v in params.items()}
    buf = {n: torch.zeros_like(v) for n, v in p.items()}
    for step in range(int(steps)):
        for name, w in p.items():
            g = grads[f"grad.{step}.{name}"].to(dtype)
            buf[name].mul_(momentum).add_(g)
            u = g.add(buf[name], alpha=momentum) if nesterov else buf[name]
            o = newton_schulz(u, int(ns_steps), a, b, c)
            scale = max(1.0, w.size(0) / w.size(1)) ** 0.5
            w.mul_(1 - lr * wd)
            w.add_(o, alpha=-lr * scale)
    return p


def main(input_path, output_path):
    torch.set_num_threads(1)
    tensors = read_tensors(input_path)
    hyper = tensors.pop("hyper").tolist()
    params = {k[len("param."):]: v for k, v in tensors.items() if k.startswith("param.")}
    out = {}
    for tag, dtype in (("f32", torch.float32), ("f64", torch.float64)):
        for name, w in run(params, tensors, hyper, dtype).items():
            out[f"{tag}.{name}"] = w
    write_tensors(output_path, out)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
