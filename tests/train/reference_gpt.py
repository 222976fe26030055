#!/usr/bin/env python3
"""Independent PyTorch reference of the GPT architecture, for the parity test: learned, sinusoidal or
rotary (GPT-NeoX rotate-half) positions; LayerNorm or RMSNorm; GELU, squared-ReLU or SwiGLU MLPs;
optional QK-norm; tied or untied output head; multi-head/grouped-query attention or DeepSeek-V2's multi-head
latent attention (explicit form), each written out here from the papers' equations.

Usage: reference_gpt.py CASE.h5 [CASE.h5 ...]
Each CASE.h5 is written by the C++ test: a checkpoint-layout model (/config, /model/<name>) plus
/parity/ids, /parity/targets [B, T] and the C++ results /parity/logits, /parity/loss and
/parity/grad/<name>. This script rebuilds the model in torch (float64, written out op by op: torch 1.13
has no scaled_dot_product_attention), runs forward + backward on the same ids, and compares.
Prints one line per case with the worst relative errors; exits 1 if any tolerance is exceeded.
"""
import math
import sys

import h5py
import torch

LOGITS_TOL, LOSS_TOL, GRAD_TOL = 1e-4, 1e-5, 1e-4


def attr_str(v):
    return v.decode() if isinstance(v, bytes) else str(v)


class Reference(torch.nn.Module):
    def __init__(self, cfg, weights):
        super().__init__()
        self.cfg = cfg
        self.params = torch.nn.ParameterDict()
        for name, value in weights.items():
            self.params[name.replace(".", "__")] = torch.nn.Parameter(torch.tensor(value, dtype=torch.float64))

    def p(self, name):
        key = name.replace(".", "__")
        return self.params[key] if key in self.params else None

    def linear(self, x, prefix):
        y = x @ self.p(prefix + ".weight").T
        b = self.p(prefix + ".bias")
        return y + b if b is not None else y

    def layer_norm(self, x, prefix):
        if self.cfg["norm"] == "rmsnorm":  # RMSNorm (Zhang & Sennrich): no mean, no bias
            return self.rms_norm(x, self.p(prefix + ".weight"))
        C = x.shape[-1]
        return torch.nn.functional.layer_norm(x, (C,), self.p(prefix + ".weight"), self.p(prefix + ".bias"), 1e-5)

    @staticmethod
    def rms_norm(x, w):
        return x * torch.rsqrt((x * x).mean(dim=-1, keepdim=True) + 1e-5) * w

    def mlp_act(self, a):
        if self.cfg["mlp"] == "relu2":  # Primer's squared ReLU
            return torch.relu(a) ** 2
        if self.cfg["mlp"] == "swiglu":  # c_fc rows: gate then value
            gate, value = a.chunk(2, dim=-1)
            return torch.nn.functional.silu(gate) * value
        return 0.5 * a * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (a + 0.044715 * a ** 3)))

    @staticmethod
    def rope(x):
        """x [B, T, n, d]: GPT-NeoX rotate-half, dimension i pairs with i + d/2, angle t·10000^(-2i/d)."""
        T, d = x.shape[1], x.shape[-1]
        inv = torch.pow(torch.tensor(10000.0, dtype=torch.float64), -torch.arange(0, d // 2, dtype=torch.float64) * 2 / d)
        angle = torch.arange(T, dtype=torch.float64)[:, None] * inv[None, :]
        cos, sin = torch.cos(angle)[None, :, None, :], torch.sin(angle)[None, :, None, :]
        x1, x2 = x[..., : d // 2], x[..., d // 2 :]
        return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], dim=-1)

    def attend(self, q, k, v, scale):
        """q, k [B, T, H, dk], v [B, T, H, dv] → [B, T, H·dv], causal."""
        B, T, H, dv = v.shape
        mask = torch.tril(torch.ones(T, T, dtype=torch.bool))
        att = (q.transpose(1, 2) @ k.transpose(1, 2).transpose(-2, -1)) * scale
        att = att.masked_fill(~mask, float("-inf")).softmax(dim=-1)
        return (att @ v.transpose(1, 2)).transpose(1, 2).reshape(B, T, H * dv)

    def mha(self, h, pre):
        cfg = self.cfg
        B, T, C = h.shape
        H, Hkv = cfg["n_head"], cfg["n_kv_head"]
        hd = C // H
        qkv = self.linear(h, pre + "attn.c_attn")
        q, k, v = qkv.split([H * hd, Hkv * hd, Hkv * hd], dim=-1)
        q, k, v = q.view(B, T, H, hd), k.view(B, T, Hkv, hd), v.view(B, T, Hkv, hd)
        if cfg["qk_norm"]:  # QK-norm: per-head RMSNorm with gains [hd], before the rotation
            q, k = self.rms_norm(q, self.p(pre + "attn.q_norm.weight")), self.rms_norm(k, self.p(pre + "attn.k_norm.weight"))
        if cfg["pos_encoding"] == "rope":
            q, k = self.rope(q), self.rope(k)
        k = k.repeat_interleave(H // Hkv, dim=2)
        v = v.repeat_interleave(H // Hkv, dim=2)
        return self.attend(q, k, v, 1.0 / math.sqrt(hd))

    def mla(self, h, pre):
        """DeepSeek-V2 multi-head latent attention, explicit form (keys and values built per head)."""
        cfg = self.cfg
        B, T, C = h.shape
        H = cfg["n_head"]
        dh, dcq = C // H, cfg["q_latent_dim"]
        dR = (cfg["rope_head_dim"] or dh // 2) if cfg["pos_encoding"] == "rope" else 0
        q_in = self.linear(h, pre + "attn.c_q_down") if dcq else h
        q = self.linear(q_in, pre + ("attn.c_q_up" if dcq else "attn.c_q")).view(B, T, H, dh)
        c_kv = self.linear(h, pre + "attn.c_kv_down")
        k = self.linear(c_kv, pre + "attn.c_k_up").view(B, T, H, dh)
        v = self.linear(c_kv, pre + "attn.c_v_up").view(B, T, H, dh)
        if dR:
            q_r = self.rope(self.linear(q_in, pre + "attn.c_q_rope").view(B, T, H, dR))
            k_r = self.rope(self.linear(h, pre + "attn.c_k_rope").view(B, T, 1, dR)).expand(B, T, H, dR)
            q, k = torch.cat([q, q_r], dim=-1), torch.cat([k, k_r], dim=-1)
        return self.attend(q, k, v, 1.0 / math.sqrt(dh + dR))

    def forward(self, ids):
        cfg = self.cfg
        B, T = ids.shape
        C = cfg["n_embd"]
        x = self.p("wte.weight")[ids]
        if cfg["pos_encoding"] == "learned":
            x = x + self.p("wpe.weight")[:T]
        elif cfg["pos_encoding"] == "sinusoidal":
            pos = torch.arange(T, dtype=torch.float64)[:, None]
            two_i = torch.arange(0, C, dtype=torch.float64)
            two_i = two_i - torch.remainder(two_i, 2)
            angle = pos / torch.pow(torch.tensor(10000.0, dtype=torch.float64), two_i / C)
            pe = torch.where(torch.arange(C) % 2 == 0, torch.sin(angle), torch.cos(angle))
            x = x * math.sqrt(C) + pe  # the original Transformer scales the token embeddings by sqrt(d_model)
        for i in range(cfg["n_layer"]):
            pre = f"h.{i}."
            h = self.layer_norm(x, pre + "ln_1")
            y = self.mla(h, pre) if cfg["attention"] == "mla" else self.mha(h, pre)
            x = x + self.linear(y, pre + "attn.c_proj")
            h = self.layer_norm(x, pre + "ln_2")
            a = self.mlp_act(self.linear(h, pre + "mlp.c_fc"))
            x = x + self.linear(a, pre + "mlp.c_proj")
        x = self.layer_norm(x, "ln_f")
        head = self.p("lm_head.weight")  # untied head (tie_embeddings = false), else wte
        return x @ (head if head is not None else self.p("wte.weight")).T


def rel(ours, ref):
    scale = max(ref.abs().max().item(), 1e-12)
    return (ours - ref).abs().max().item() / scale


def run_case(path):
    with h5py.File(path, "r") as f:
        a = f["config"].attrs
        cfg = {k: int(a[k]) for k in ("vocab_size", "block_size", "n_layer", "n_head", "n_kv_head", "n_embd")}
        cfg["pos_encoding"] = attr_str(a["pos_encoding"])
        cfg["attention"] = attr_str(a["attention"]) if "attention" in a else "mha"  # absent in older files
        for key in ("kv_latent_dim", "q_latent_dim", "rope_head_dim"):
            cfg[key] = int(a[key]) if key in a else 0
        cfg["norm"] = attr_str(a["norm"]) if "norm" in a else "layernorm"  # issue 31; absent: GPT-2's
        cfg["mlp"] = attr_str(a["mlp"]) if "mlp" in a else "gelu"
        cfg["qk_norm"] = bool(int(a["qk_norm"])) if "qk_norm" in a else False
        weights = {}
        f["model"].visititems(lambda n, o: weights.__setitem__(n, o[()]) if isinstance(o, h5py.Dataset) else None)
        ids = torch.tensor(f["parity/ids"][()], dtype=torch.long)
        targets = torch.tensor(f["parity/targets"][()], dtype=torch.long)
        c_logits = torch.tensor(f["parity/logits"][()], dtype=torch.float64)
        c_loss = float(f["parity/loss"][()].reshape(-1)[0])
        c_grads = {n: torch.tensor(f["parity/grad/" + n][()], dtype=torch.float64) for n in weights}
    model = Reference(cfg, weights)
    logits = model(ids)
    loss = torch.nn.functional.cross_entropy(logits.view(-1, logits.shape[-1]), targets.view(-1))
    loss.backward()
    errors = {"logits": rel(c_logits, logits.detach()), "loss": abs(c_loss - loss.item()) / abs(loss.item())}
    worst_grad, worst_name = 0.0, ""
    for n in weights:
        e = rel(c_grads[n], model.p(n).grad)
        if e > worst_grad:
            worst_grad, worst_name = e, n
    ok = errors["logits"] <= LOGITS_TOL and errors["loss"] <= LOSS_TOL and worst_grad <= GRAD_TOL
    print(f"{'ok  ' if ok else 'FAIL'} {path.split('/')[-1]}: logits rel {errors['logits']:.2e}, "
          f"loss rel {errors['loss']:.2e}, worst grad rel {worst_grad:.2e} ({worst_name})")
    if not ok:
        for n in weights:
            print(f"     grad {n}: rel {rel(c_grads[n], model.p(n).grad):.2e}")
    return ok


if __name__ == "__main__":
    torch.set_num_threads(1)
    results = [run_case(p) for p in sys.argv[1:]]
    sys.exit(0 if results and all(results) else 1)
