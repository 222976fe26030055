"""An independent reference for gpt serve's transformer forward view (serve_api_check.py): one source/target
pair through PyTorch 1.13's own torch.nn.MultiheadAttention, LayerNorm and linear layers, built from the
checkpoint's /config and /model (h5py), in float64, laid out as torch.nn.Transformer's layers compute them
(tests/nn/reference_encoder_decoder.py checks the model itself against nn.Transformer; here each attention
module is called with need_weights=True so that its probabilities per head can be compared with the maps):
  embeddings   wte[ids]·√C + the sinusoidal table
  encoder      post-norm: x = ln_1(x + SA(x)); x = ln_2(x + FF(x))   (pre-norm: x += SA(ln_1 x); x += FF(ln_2 x); ln_f)
  decoder      post-norm: y = ln_1(y + SA_causal(y)); y = ln_2(y + CA(y, memory)); y = ln_3(y + FF(y))
  logits       y · wteᵀ (tied) or lm_head
load(path) → Reference; Reference.pair(source_ids, decoder_ids) → dict of encoder [L][H,S,S], decoder
[L][H,T,T], cross [L][H,T,S] and logits [T,V] tensors."""
import math

import h5py
import torch
import torch.nn.functional as F


def sinusoidal(T, C):
    pe = torch.zeros(T, C, dtype=torch.float64)
    for p in range(T):
        for j in range(C):
            angle = p / 10000 ** ((j - j % 2) / C)
            pe[p, j] = math.sin(angle) if j % 2 == 0 else math.cos(angle)
    return pe


class Reference:
    def __init__(self, path):
        with h5py.File(path, "r") as f:
            self.config = {k: f["config"].attrs[k] for k in f["config"].attrs if k != "train_config"}
            self.p = {name: torch.tensor(f["model"][name][()], dtype=torch.float64) for name in f["model"]}
        c = self.config
        self.C, self.H = int(c["n_embd"]), int(c["n_head"])
        self.norm_first = bool(c["norm_first"])
        self.act = {"relu": F.relu, "gelu": F.gelu}[c["activation"].decode() if isinstance(c["activation"], bytes) else c["activation"]]

    def mha(self, weight, bias, proj):
        m = torch.nn.MultiheadAttention(self.C, self.H, batch_first=True).double()
        with torch.no_grad():
            m.in_proj_weight.copy_(weight)
            m.in_proj_bias.copy_(bias)
            m.out_proj.weight.copy_(self.p[proj + ".weight"])
            m.out_proj.bias.copy_(self.p[proj + ".bias"])
        return m.eval()

    def ln(self, x, name):
        return F.layer_norm(x, (self.C,), self.p[name + ".weight"], self.p[name + ".bias"], 1e-5)

    def ff(self, x, pre):
        h = F.linear(x, self.p[pre + "mlp.c_fc.weight"], self.p[pre + "mlp.c_fc.bias"])
        return F.linear(self.act(h), self.p[pre + "mlp.c_proj.weight"], self.p[pre + "mlp.c_proj.bias"])

    def sublayer(self, x, f, norm):
        """Residual around f, post-norm or pre-norm; f(x) returns (output, attention or None)."""
        if self.norm_first:
            out, weights = f(self.ln(x, norm))
            return x + out, weights
        out, weights = f(x)
        return self.ln(x + out, norm), weights

    @torch.no_grad()
    def pair(self, source, decoder_input):
        c, C = self.config, self.C
        wte = self.p["wte.weight"]
        wte_source = self.p.get("wte_source.weight", wte)
        S, T = len(source), len(decoder_input)
        x = (F.embedding(torch.tensor([source]), wte_source) * math.sqrt(C) + sinusoidal(S, C))
        encoder = []
        for l in range(int(c["n_encoder_layer"])):
            pre = f"encoder.h.{l}."
            sa = self.mha(self.p[pre + "attn.c_attn.weight"], self.p[pre + "attn.c_attn.bias"], pre + "attn.c_proj")
            x, w = self.sublayer(x, lambda z: sa(z, z, z, need_weights=True, average_attn_weights=False), pre + "ln_1")
            encoder.append(w[0])
            x, _ = self.sublayer(x, lambda z: (self.ff(z, pre), None), pre + "ln_2")
        if self.norm_first:
            x = self.ln(x, "encoder.ln_f")
        memory = x
        y = F.embedding(torch.tensor([decoder_input]), wte) * math.sqrt(C) + sinusoidal(T, C)
        causal = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)
        decoder, cross = [], []
        for l in range(int(c["n_decoder_layer"])):
            pre = f"decoder.h.{l}."
            sa = self.mha(self.p[pre + "attn.c_attn.weight"], self.p[pre + "attn.c_attn.bias"], pre + "attn.c_proj")
            ca = self.mha(torch.cat([self.p[pre + "cross_attn.c_q.weight"], self.p[pre + "cross_attn.c_kv.weight"]]),
                          torch.cat([self.p[pre + "cross_attn.c_q.bias"], self.p[pre + "cross_attn.c_kv.bias"]]),
                          pre + "cross_attn.c_proj")
            y, w = self.sublayer(y, lambda z: sa(z, z, z, attn_mask=causal, need_weights=True, average_attn_weights=False),
                                 pre + "ln_1")
            decoder.append(w[0])
            y, w = self.sublayer(y, lambda z: ca(z, memory, memory, need_weights=True, average_attn_weights=False),
                                 pre + "ln_2")
            cross.append(w[0])
            y, _ = self.sublayer(y, lambda z: (self.ff(z, pre), None), pre + "ln_3")
        if self.norm_first:
            y = self.ln(y, "decoder.ln_f")
        head = self.p.get("lm_head.weight", wte)
        return {"encoder": encoder, "decoder": decoder, "cross": cross, "logits": (y @ head.t())[0]}


def load(path):
    return Reference(path)
