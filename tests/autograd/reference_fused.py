"""PyTorch reference for the fused ops (gelu, the exact gelu_erf, layer_norm, add_layer_norm, cross_entropy,
causal_self_attention and the attention op's bidirectional and cross modes with key padding) and issue 31's ops
(rms_norm, qk_rms_norm, relu_squared, swiglu).

Usage: reference_fused.py INPUT OUTPUT. Exits with status 3 when torch cannot be imported (the C++ test
then fails under GPT_REQUIRE_TORCH=1, else skips). Called by tests/autograd/test_fused_reference.cpp.

File format (both ways, tests/reference_text.py), one tensor per line:  <name> <ndim> <dims...> : <values...>
Input names are "<case>.<field>" where <case> is "<op>" or "<op>_<variant>"; every case has a probe
"r" shaped like the op's output, and the gradients are those of L = sum(out * r). Everything is computed
in float64 from the float32 inputs, written out explicitly (torch 1.13 has no
scaled_dot_product_attention), so the C++ results are compared against a near-exact reference.
"""
import math
import os
import sys

try:
    import torch
    import torch.nn.functional as F
except ImportError as error:
    print(f"reference_fused.py: cannot import torch ({error})", file=sys.stderr)
    sys.exit(3)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from reference_text import read_tensors, write_tensors  # noqa: E402  (tests/reference_text.py)


def leaf(t):
    return t.clone().requires_grad_(True)


def gelu_case(c):
    x = leaf(c["x"])
    out = F.gelu(x, approximate="tanh")
    (out * c["r"]).sum().backward()
    return {"out": out, "dx": x.grad}


def erf_gelu_case(c):
    x = leaf(c["x"])
    out = F.gelu(x)  # approximate="none": x * Phi(x)
    (out * c["r"]).sum().backward()
    return {"out": out, "dx": x.grad}


def layer_norm_case(c):
    x, w, b = leaf(c["x"]), leaf(c["weight"]), leaf(c["bias"])
    out = F.layer_norm(x, (x.shape[-1],), w, b, eps=1e-5)
    (out * c["r"]).sum().backward()
    return {"out": out, "dx": x.grad, "dweight": w.grad, "dbias": b.grad}


def add_layer_norm_case(c):
    """The residual add fused with LayerNorm: (x + y), then F.layer_norm; both outputs probed."""
    x, y, w, b = leaf(c["x"]), leaf(c["y"]), leaf(c["weight"]), leaf(c["bias"])
    s = x + y
    out = F.layer_norm(s, (s.shape[-1],), w, b, eps=1e-5)
    ((out * c["r"]).sum() + (s * c["rs"]).sum()).backward()
    return {"out": out, "sum": s, "dx": x.grad, "dy": y.grad, "dweight": w.grad, "dbias": b.grad}


def cross_entropy_case(c):
    logits = leaf(c["logits"])
    V = logits.shape[-1]
    targets = c["targets"].long().reshape(-1)
    loss = F.cross_entropy(logits.reshape(-1, V), targets, ignore_index=int(c["ignore_index"].item()))
    (loss * c["r"].reshape(())).backward()
    return {"out": loss, "dlogits": logits.grad}


def attention_case(c):
    qkv = leaf(c["qkv"])
    H, H_kv = int(c["n_head"].item()), int(c["n_kv_head"].item())
    B, T, width = qkv.shape
    hd = width // (H + 2 * H_kv)
    q, k, v = qkv.split([H * hd, H_kv * hd, H_kv * hd], dim=2)
    q = q.reshape(B, T, H, hd).transpose(1, 2)  # [B, H, T, hd]
    k = k.reshape(B, T, H_kv, hd).transpose(1, 2).repeat_interleave(H // H_kv, dim=1)
    v = v.reshape(B, T, H_kv, hd).transpose(1, 2).repeat_interleave(H // H_kv, dim=1)
    scores = (q @ k.transpose(-2, -1)) / math.sqrt(hd)
    causal = torch.tril(torch.ones(T, T, dtype=torch.bool))
    att = torch.softmax(scores.masked_fill(~causal, float("-inf")), dim=-1)
    out = (att @ v).transpose(1, 2).reshape(B, T, H * hd)
    (out * c["r"]).sum().backward()
    return {"out": out, "dqkv": qkv.grad}


def masked_attention(q, k, v, visible):
    """softmax(q k^T / sqrt(hd) + mask) v over [B, H, Tq, hd] x [B, H, Tk, hd], visible [B, 1|H, Tq, Tk] bool.
    A query row that sees no key gets probability 0 everywhere (the op's definition; PyTorch's softmax over
    a row of -inf would give NaN): its mask is lifted before the softmax and the row multiplied by 0."""
    hd = q.shape[-1]
    scores = (q @ k.transpose(-2, -1)) / math.sqrt(hd)
    seen = visible.any(dim=-1, keepdim=True)
    att = torch.softmax(scores.masked_fill(~(visible | ~seen), float("-inf")), dim=-1) * seen
    return att @ v


def heads(x, n, hd, repeat=1):
    B, T = x.shape[0], x.shape[1]
    return x.reshape(B, T, n, hd).transpose(1, 2).repeat_interleave(repeat, dim=1)


def attention_mode_case(c):
    """Bidirectional or causal self-attention on qkv, or cross attention on q and kv, with a key padding
    mask [B, Tk] (1 = padding, as torch's key_padding_mask)."""
    H, H_kv = int(c["n_head"].item()), int(c["n_kv_head"].item())
    padded = c["padding"].bool()
    if "qkv" in c:
        qkv = leaf(c["qkv"])
        B, T, width = qkv.shape
        hd = width // (H + 2 * H_kv)
        q, k, v = qkv.split([H * hd, H_kv * hd, H_kv * hd], dim=2)
        inputs = {"dqkv": qkv}
    else:
        qin, kvin = leaf(c["q"]), leaf(c["kv"])
        B, T = qin.shape[0], qin.shape[1]
        hd = qin.shape[2] // H
        k, v = kvin.split([H_kv * hd, H_kv * hd], dim=2)
        q = qin
        inputs = {"dq": qin, "dkv": kvin}
    Tk = k.shape[1]
    visible = (~padded)[:, None, None, :].expand(B, 1, T, Tk)
    if int(c["causal"].item()):
        visible = visible & torch.tril(torch.ones(T, Tk, dtype=torch.bool))
    out = masked_attention(heads(q, H, hd), heads(k, H_kv, hd, H // H_kv), heads(v, H_kv, hd, H // H_kv), visible)
    out = out.transpose(1, 2).reshape(B, T, H * hd)
    (out * c["r"]).sum().backward()
    return {"out": out, **{name: t.grad for name, t in inputs.items()}}


def rms(x, w, eps=1e-5):
    """RMSNorm over the last axis, written out: x / sqrt(mean(x^2) + eps) * w."""
    return x * torch.rsqrt((x * x).mean(dim=-1, keepdim=True) + eps) * w


def rms_norm_case(c):
    x, w = leaf(c["x"]), leaf(c["weight"])
    out = rms(x, w)
    (out * c["r"]).sum().backward()
    return {"out": out, "dx": x.grad, "dweight": w.grad}


def qk_norm_case(c):
    qkv, wq, wk = leaf(c["qkv"]), leaf(c["q_weight"]), leaf(c["k_weight"])
    H, H_kv = int(c["n_head"].item()), int(c["n_kv_head"].item())
    B, T, width = qkv.shape
    hd = width // (H + 2 * H_kv)
    q, k, v = qkv.split([H * hd, H_kv * hd, H_kv * hd], dim=2)
    q = rms(q.reshape(B, T, H, hd), wq).reshape(B, T, H * hd)
    k = rms(k.reshape(B, T, H_kv, hd), wk).reshape(B, T, H_kv * hd)
    out = torch.cat([q, k, v], dim=2)
    (out * c["r"]).sum().backward()
    return {"out": out, "dqkv": qkv.grad, "dq_weight": wq.grad, "dk_weight": wk.grad}


def relu2_case(c):
    x = leaf(c["x"])
    out = torch.relu(x) ** 2
    (out * c["r"]).sum().backward()
    return {"out": out, "dx": x.grad}


def swiglu_case(c):
    x = leaf(c["x"])
    a, b = x.chunk(2, dim=-1)
    out = F.silu(a) * b
    (out * c["r"]).sum().backward()
    return {"out": out, "dx": x.grad}


CASES = {"gelu": gelu_case, "erfgelu": erf_gelu_case, "layer_norm": layer_norm_case, "add_layer_norm": add_layer_norm_case,
         "cross_entropy": cross_entropy_case, "attention": attention_case, "attnmode": attention_mode_case, "rms_norm": rms_norm_case, "qk_norm": qk_norm_case, "relu2": relu2_case,
         "swiglu": swiglu_case}


def main():
    inputs = read_tensors(sys.argv[1])
    cases = {}
    for name, t in inputs.items():
        case, field = name.split(".", 1)
        cases.setdefault(case, {})[field] = t
    results = {}
    for case, fields in cases.items():
        op = next(o for o in CASES if case == o or case.startswith(o + "_"))
        for field, t in CASES[op](fields).items():
            results[f"{case}.{field}"] = t
    write_tensors(sys.argv[2], results)


if __name__ == "__main__":
    main()
