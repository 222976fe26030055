"""PyTorch side of bench/run.py: the same GPT (nanoGPT's architecture: attention through
torch.nn.functional.scaled_dot_product_attention when the installed torch has it, as nanoGPT does, else
written out as on Debian's torch 1.13), the same byte-level data and batch formula as gpt_bench
(bench/bench_config.cpp), AdamW, clip at 1.0. Prints one JSON line like `gpt_bench train`, with the ISA
PyTorch uses (torch.backends.cpu.get_cpu_capability(), or the "CPU capability usage" line of
torch.__config__.show() on older torch) and the OpenBLAS core type it was given.

--compile (torch 2.x): the model goes through torch.compile (fp32); the warm-up steps include the
compilation, whose time is reported separately as compile_s (first step's time).

--nanogpt DIR: the model and optimizer are nanoGPT's own (DIR/model.py: GPT, GPTConfig with bias=True and
the same shape, configure_optimizers(0.1, 1e-3, (0.9, 0.99), "cpu")), trained on the same batches; the
side is then called "nanogpt".

usage: /usr/bin/python3 bench/reference_train.py --config baby --threads 2 --steps 30 --warmup 3 [--compile]
                                                 [--nanogpt DIR]
"""
import argparse
import json
import math
import os
import re
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

SHAPES = {  # n_layer, n_head, n_embd, block_size, batch_size, dropout, vocab (bench_config.cpp)
    "baby": (4, 4, 128, 64, 12, 0.0, 256),
    "small": (6, 6, 384, 256, 16, 0.2, 256),
    "gpt2": (12, 12, 768, 64, 4, 0.0, 50304),  # GPT-2 124M, llm.c's CPU fine-tuning run
}
VOCAB = 256  # set from the shape in main()
HAS_SDPA = hasattr(F, "scaled_dot_product_attention")


def cpu_capability():
    backends_cpu = getattr(torch.backends, "cpu", None)
    if backends_cpu is not None and hasattr(backends_cpu, "get_cpu_capability"):
        return backends_cpu.get_cpu_capability()
    found = re.search(r"CPU capability usage: (\S+)", torch.__config__.show())
    return found.group(1) if found else "unknown"


class Block(nn.Module):
    def __init__(self, C, H, T, p):
        super().__init__()
        self.H, self.p = H, p
        self.ln_1 = nn.LayerNorm(C)
        self.c_attn = nn.Linear(C, 3 * C)
        self.c_proj = nn.Linear(C, C)
        self.ln_2 = nn.LayerNorm(C)
        self.c_fc = nn.Linear(C, 4 * C)
        self.mlp_proj = nn.Linear(4 * C, C)
        self.register_buffer("mask", torch.tril(torch.ones(T, T, dtype=torch.bool)).view(1, 1, T, T))

    def attention(self, x):
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(C, dim=2)
        q = q.view(B, T, self.H, C // self.H).transpose(1, 2)
        k = k.view(B, T, self.H, C // self.H).transpose(1, 2)
        v = v.view(B, T, self.H, C // self.H).transpose(1, 2)
        if HAS_SDPA:
            y = F.scaled_dot_product_attention(q, k, v, dropout_p=self.p if self.training else 0.0, is_causal=True)
            y = y.transpose(1, 2).contiguous().view(B, T, C)
            return F.dropout(self.c_proj(y), self.p, self.training)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
        att = att.masked_fill(~self.mask[:, :, :T, :T], float("-inf"))
        att = F.dropout(F.softmax(att, dim=-1), self.p, self.training)
        y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
        return F.dropout(self.c_proj(y), self.p, self.training)

    def forward(self, x):
        x = x + self.attention(self.ln_1(x))
        h = self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))
        return x + F.dropout(h, self.p, self.training)


class GPT(nn.Module):
    def __init__(self, L, H, C, T, p):
        super().__init__()
        self.wte = nn.Embedding(VOCAB, C)
        self.wpe = nn.Embedding(T, C)
        self.p = p
        self.h = nn.ModuleList([Block(C, H, T, p) for _ in range(L)])
        self.ln_f = nn.LayerNorm(C)
        for name, param in self.named_parameters():
            if name.endswith("weight") and param.dim() == 2:
                std = 0.02 / math.sqrt(2 * L) if name.endswith(("c_proj.weight", "mlp_proj.weight")) else 0.02
                nn.init.normal_(param, 0.0, std)
            elif name.endswith("bias"):
                nn.init.zeros_(param)

    def forward(self, idx, targets):
        T = idx.shape[1]
        x = F.dropout(self.wte(idx) + self.wpe(torch.arange(T)), self.p, self.training)
        for block in self.h:
            x = block(x)
        logits = F.linear(self.ln_f(x), self.wte.weight)  # tied lm_head
        return F.cross_entropy(logits.view(-1, VOCAB), targets.view(-1))


class NanoGPTLoss(nn.Module):
    """nanoGPT's GPT returns (logits, loss); the loop here wants the loss."""
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, idx, targets):
        return self.model(idx, targets)[1]


def nanogpt_model(directory, L, H, C, T, p):
    import sys
    sys.path.insert(0, os.path.abspath(directory))
    from model import GPT as NanoGPT, GPTConfig  # nanoGPT's own model.py
    inner = NanoGPT(GPTConfig(block_size=T, vocab_size=VOCAB, n_layer=L, n_head=H, n_embd=C, dropout=p, bias=True))
    opt = inner.configure_optimizers(0.1, 1e-3, (0.9, 0.99), "cpu")
    return NanoGPTLoss(inner), opt


def make_batch(data, step, B, T):
    span = len(data) - T - 1
    starts = [((step * B + b) * 104729) % span for b in range(B)]
    x = torch.stack([data[s:s + T] for s in starts])
    y = torch.stack([data[s + 1:s + T + 1] for s in starts])
    return x, y


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", default="baby", choices=SHAPES)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--data", default="/usr/share/games/fortunes/computers")
    ap.add_argument("--compile", action="store_true", help="torch.compile the model (torch 2.x)")
    ap.add_argument("--grad_clip", type=float, default=1.0, help="0: no clipping (gpt_bench --optimizer_in_backward)")
    ap.add_argument("--nanogpt", help="a nanoGPT checkout: train its own model class instead")
    args = ap.parse_args()
    if args.compile and not hasattr(torch, "compile"):
        raise SystemExit(f"--compile needs torch 2.x, this is {torch.__version__}")
    torch.set_num_threads(args.threads)
    torch.manual_seed(1337)
    global VOCAB
    L, H, C, T, B, p, VOCAB = SHAPES[args.config]
    with open(args.data, "rb") as f:
        data = torch.tensor(list(f.read()), dtype=torch.long)
    if args.nanogpt:
        model, opt = nanogpt_model(args.nanogpt, L, H, C, T, p)
    else:
        model = GPT(L, H, C, T, p)
        decay = [q for q in model.parameters() if q.dim() >= 2]
        no_decay = [q for q in model.parameters() if q.dim() < 2]
        opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                                lr=1e-3, betas=(0.9, 0.99))
    model.train()
    step_model = torch.compile(model) if args.compile else model
    step_ms, fwd_ms, bwd_ms, opt_ms, cpu_ms = [], [], [], [], []
    first = last = 0.0
    for step in range(args.warmup + args.steps):
        x, y = make_batch(data, step, B, T)
        t0 = time.perf_counter()
        c0 = time.process_time()
        opt.zero_grad(set_to_none=True)
        loss = step_model(x, y)
        t1 = time.perf_counter()
        loss.backward()
        t2 = time.perf_counter()
        if args.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), args.grad_clip)
        opt.step()
        t3 = time.perf_counter()
        c3 = time.process_time()
        if step == 0:
            first = loss.item()
            first_step_s = t3 - t0
        last = loss.item()
        if step >= args.warmup:
            step_ms.append((t3 - t0) * 1e3)
            cpu_ms.append((c3 - c0) * 1e3)
            fwd_ms.append((t1 - t0) * 1e3)
            bwd_ms.append((t2 - t1) * 1e3)
            opt_ms.append((t3 - t2) * 1e3)
    print(json.dumps({"side": "nanogpt" if args.nanogpt else "pytorch", "config": args.config, "threads": torch.get_num_threads(),
                      "steps": args.steps, "ms": statistics.median(step_ms),
                      "cpu_ms": statistics.median(cpu_ms),
                      "forward_ms": statistics.median(fwd_ms), "backward_ms": statistics.median(bwd_ms),
                      "optimizer_ms": statistics.median(opt_ms), "tokens_per_step": B * T,
                      "parameters": sum(q.numel() for q in model.parameters()),
                      "first_loss": round(first, 4), "last_loss": round(last, 4),
                      "torch": torch.__version__, "isa": cpu_capability(),
                      "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE", "auto"),
                      "attention": "sdpa" if HAS_SDPA else "written-out", "compiled": args.compile,
                      "compile_s": round(first_step_s, 2) if args.compile else None}))


if __name__ == "__main__":
    main()
