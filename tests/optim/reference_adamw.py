#!/usr/bin/env python3
"""PyTorch reference for tests/optim/test_adamw.cpp: torch.optim.AdamW fed the C++ test's parameters and
gradients, so that the two optimizers are compared alone (no model, no backward in between).

usage: reference_adamw.py INPUT OUTPUT

INPUT, one record per line, floats as C hex literals (float.fromhex reads them exactly):
  hyper LR BETA1 BETA2 EPS WEIGHT_DECAY STEPS
  param NAME DECAY NDIM D0 .. D{NDIM-1} V0 V1 ...     DECAY 1: in the weight-decay group
  grad STEP NAME V0 V1 ...                            a parameter without a line at a step has p.grad None
OUTPUT: one line per parameter after the last step: NAME V0 V1 ... (hex)
Exit status 77 when torch cannot be imported (the C++ test then fails under GPT_REQUIRE_TORCH=1, else skips with a message).
"""
import sys

try:
    import torch
except ImportError:
    sys.exit(77)


def main(input_path, output_path):
    torch.set_num_threads(1)
    params, decay, grads = {}, {}, {}
    with open(input_path) as f:
        for line in f:
            fields = line.split()
            if not fields:
                continue
            if fields[0] == "hyper":
                lr, beta1, beta2, eps, wd = (float.fromhex(x) for x in fields[1:6])
                steps = int(fields[6])
            elif fields[0] == "param":
                name, ndim = fields[1], int(fields[3])
                shape = [int(d) for d in fields[4:4 + ndim]]
                values = [float.fromhex(x) for x in fields[4 + ndim:]]
                params[name] = torch.tensor(values, dtype=torch.float32).reshape(shape).requires_grad_()
                decay[name] = fields[2] == "1"
            elif fields[0] == "grad":
                step, name = int(fields[1]), fields[2]
                values = [float.fromhex(x) for x in fields[3:]]
                grads.setdefault(step, {})[name] = torch.tensor(values, dtype=torch.float32).reshape(params[name].shape)
            else:
                raise ValueError(f"{input_path}: unknown record {fields[0]!r}")
    groups = [
        {"params": [p for n, p in params.items() if decay[n]], "weight_decay": wd},
        {"params": [p for n, p in params.items() if not decay[n]], "weight_decay": 0.0},
    ]
    optimizer = torch.optim.AdamW(groups, lr=lr, betas=(beta1, beta2), eps=eps, foreach=False)
    for step in range(steps):
        for name, p in params.items():
            p.grad = grads.get(step, {}).get(name)
        optimizer.step()
    with open(output_path, "w") as f:
        for name, p in params.items():
            values = p.detach().reshape(-1).tolist()
            f.write(name + " " + " ".join(float(v).hex() for v in values) + "\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
