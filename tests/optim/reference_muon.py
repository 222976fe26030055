#!/usr/bin/env python3
"""PyTorch reference for tests/optim/test_muon.cpp: Muon as published (Keller Jordan, 2024,
github.com/KellerJordan/Muon: momentum, Nesterov, the quintic Newton-Schulz iteration, the
sqrt(max(1, rows/cols)) scale, decoupled weight decay), written here from the algorithm in torch, in
float32 (the C++ optimizer's precision; the published code uses bfloat16 on a GPU) and float64.

usage: reference_muon.py INPUT OUTPUT

INPUT, one record per line, floats as C hex literals (float.fromhex reads them exactly):
  hyper LR MOMENTUM NESTEROV NS_STEPS A B C WEIGHT_DECAY STEPS
  param NAME ROWS COLS V0 V1 ...
  grad STEP NAME V0 V1 ...
OUTPUT: per parameter after the last step, two lines: "f32 NAME V0 V1 ..." and "f64 NAME V0 V1 ..." (hex)
Exit status 77 when torch cannot be imported.
"""
import sys

try:
    import torch
except ImportError:
    sys.exit(77)


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
    for step in range(steps):
        for name, w in p.items():
            g = grads[step][name].to(dtype)
            buf[name].mul_(momentum).add_(g)
            u = g.add(buf[name], alpha=momentum) if nesterov else buf[name]
            o = newton_schulz(u, ns_steps, a, b, c)
            scale = max(1.0, w.size(0) / w.size(1)) ** 0.5
            w.mul_(1 - lr * wd)
            w.add_(o, alpha=-lr * scale)
    return p


def main(input_path, output_path):
    torch.set_num_threads(1)
    params, grads = {}, {}
    with open(input_path) as f:
        for line in f:
            fields = line.split()
            if not fields:
                continue
            if fields[0] == "hyper":
                lr, momentum = float.fromhex(fields[1]), float.fromhex(fields[2])
                nesterov, ns_steps = fields[3] == "1", int(fields[4])
                a, b, c, wd = (float.fromhex(x) for x in fields[5:9])
                hyper = (lr, momentum, nesterov, ns_steps, a, b, c, wd, int(fields[9]))
            elif fields[0] == "param":
                rows, cols = int(fields[2]), int(fields[3])
                params[fields[1]] = torch.tensor([float.fromhex(x) for x in fields[4:]], dtype=torch.float64).reshape(rows, cols)
            elif fields[0] == "grad":
                step, name = int(fields[1]), fields[2]
                values = [float.fromhex(x) for x in fields[3:]]
                grads.setdefault(step, {})[name] = torch.tensor(values, dtype=torch.float64).reshape(params[name].shape)
            else:
                raise ValueError(f"{input_path}: unknown record {fields[0]!r}")
    with open(output_path, "w") as out:
        for tag, dtype in (("f32", torch.float32), ("f64", torch.float64)):
            for name, w in run(params, grads, hyper, dtype).items():
                out.write(tag + " " + name + " " + " ".join(float(x).hex() for x in w.flatten().tolist()) + "\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
