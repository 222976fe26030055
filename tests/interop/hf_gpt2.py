#!/usr/bin/env python3
"""A small random GPT-2 in Hugging Face's layout, written without `transformers`, and its logits.

Usage: hf_gpt2.py OUT_DIR IDS_FILE [--dtype F32|F16|BF16] [--no-prefix] [--seed N]
Writes OUT_DIR/config.json, OUT_DIR/model.safetensors (names "transformer.h.0.attn.c_attn.weight", ...,
Conv1D weights [in, out], the attn.bias / attn.masked_bias buffers, lm_head.weight tied), vocab.json +
merges.txt (GPT-2's byte alphabet, no merges, <|endoftext|>: vocab 257), and OUT_DIR/reference_logits.bin:
float32 [T, V] of GPT-2's forward (written here op by op in float64, as Hugging Face's GPT2LMHeadModel
computes it) on the ids of IDS_FILE.
"""
import argparse
import json
import math
import struct
import sys

import torch

ap = argparse.ArgumentParser()
ap.add_argument("out")
ap.add_argument("ids")
ap.add_argument("--dtype", default="F32")
ap.add_argument("--no-prefix", action="store_true")
ap.add_argument("--seed", type=int, default=1)
args = ap.parse_args()

V, P, C, L, H = 257, 32, 48, 2, 4
torch.manual_seed(args.seed)
g = lambda *shape, s=0.2: torch.randn(*shape, dtype=torch.float64) * s
w = {"wte.weight": g(V, C, s=0.5), "wpe.weight": g(P, C, s=0.3), "ln_f.weight": 1 + g(C), "ln_f.bias": g(C)}
for l in range(L):
    p = f"h.{l}."
    w.update({p + "ln_1.weight": 1 + g(C), p + "ln_1.bias": g(C), p + "ln_2.weight": 1 + g(C), p + "ln_2.bias": g(C),
              p + "attn.c_attn.weight": g(C, 3 * C), p + "attn.c_attn.bias": g(3 * C),
              p + "attn.c_proj.weight": g(C, C), p + "attn.c_proj.bias": g(C),
              p + "mlp.c_fc.weight": g(C, 4 * C), p + "mlp.c_fc.bias": g(4 * C),
              p + "mlp.c_proj.weight": g(4 * C, C), p + "mlp.c_proj.bias": g(C)})
# The stored values (rounded to the file's dtype) are what both sides compute with.
tdtype = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}[args.dtype]
w = {k: v.to(tdtype).to(torch.float64) for k, v in w.items()}

# --- safetensors, written by hand: u64 header length, JSON header, raw little-endian data ---
prefix = "" if args.no_prefix else "transformer."
tensors = [(prefix + k, v.to(tdtype)) for k, v in w.items()]
for l in range(L):  # the buffers Hugging Face's older versions saved
    tensors.append((f"{prefix}h.{l}.attn.bias", torch.ones(1, 1, P, P).tril().to(tdtype)))
    tensors.append((f"{prefix}h.{l}.attn.masked_bias", torch.tensor(-1e4).to(tdtype)))
tensors.append(("lm_head.weight", w["wte.weight"].to(tdtype)))
header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
for name, t in tensors:
    data = t.contiguous().view(torch.int16 if t.element_size() == 2 else torch.int32).numpy().tobytes()
    header[name] = {"dtype": args.dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
    blobs.append(data)
    offset += len(data)
text = json.dumps(header).encode()
text += b" " * (-len(text) % 8)
with open(f"{args.out}/model.safetensors", "wb") as f:
    f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))
json.dump({"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"], "vocab_size": V, "n_positions": P, "n_ctx": P,
           "n_embd": C, "n_layer": L, "n_head": H, "n_inner": None, "activation_function": "gelu_new",
           "layer_norm_epsilon": 1e-5}, open(f"{args.out}/config.json", "w"))

# --- tokenizer files: GPT-2's bytes_to_unicode alphabet, no merges ---
bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
cs, n = bs[:], 0
for b in range(256):
    if b not in bs:
        bs.append(b)
        cs.append(256 + n)
        n += 1
vocab = {chr(c): i for i, c in enumerate(cs)}
vocab["<|endoftext|>"] = 256
json.dump(vocab, open(f"{args.out}/vocab.json", "w"))
open(f"{args.out}/merges.txt", "w").write("#version: 0.2\n")

# --- GPT-2's forward (Hugging Face's GPT2LMHeadModel, Conv1D: y = x @ W + b) ---
ids = torch.tensor([int(i) for i in open(args.ids).read().split()])
T = len(ids)
ln = lambda x, p: torch.nn.functional.layer_norm(x, (C,), w[p + ".weight"], w[p + ".bias"], 1e-5)
gelu_new = lambda x: 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))
x = w["wte.weight"][ids] + w["wpe.weight"][:T]
hd = C // H
for l in range(L):
    p = f"h.{l}."
    qkv = ln(x, p + "ln_1") @ w[p + "attn.c_attn.weight"] + w[p + "attn.c_attn.bias"]
    q, k, v = (t.view(T, H, hd).transpose(0, 1) for t in qkv.split(C, dim=-1))
    att = (q @ k.transpose(-1, -2)) / math.sqrt(hd)
    att = att.masked_fill(~torch.ones(T, T, dtype=torch.bool).tril(), float("-inf")).softmax(-1)
    y = (att @ v).transpose(0, 1).reshape(T, C)
    x = x + y @ w[p + "attn.c_proj.weight"] + w[p + "attn.c_proj.bias"]
    m = gelu_new(ln(x, p + "ln_2") @ w[p + "mlp.c_fc.weight"] + w[p + "mlp.c_fc.bias"])
    x = x + m @ w[p + "mlp.c_proj.weight"] + w[p + "mlp.c_proj.bias"]
logits = ln(x, "ln_f") @ w["wte.weight"].T
logits.float().numpy().tofile(f"{args.out}/reference_logits.bin")
