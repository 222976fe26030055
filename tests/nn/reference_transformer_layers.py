"""PyTorch's own nn.TransformerEncoderLayer / nn.TransformerDecoderLayer (batch_first=True) on the weights
and inputs the C++ test wrote, for tests/nn/test_transformer_layers.cpp: an independent reference, written
by PyTorch's authors, of the layers in nn/transformer_layers.h.

Usage: reference_transformer_layers.py INPUT OUTPUT. Exits with status 3 when torch cannot be imported
(the C++ test then fails under GPT_REQUIRE_TORCH=1, else skips).

Input (tests/reference_text.py's format), per case "<case>.<field>":
  decoder, norm_first, gelu, n_head, dim_feedforward: scalars (0/1 flags; gelu 0 is relu)
  x [B, T, C], memory [B, S, C] (decoder only), r [B, T, C]: the probe, L = sum(out * r)
  padding [B, T] (1 = padded key: src_key_padding_mask or tgt_key_padding_mask),
  memory_padding [B, S] (decoder only: memory_key_padding_mask)
  param.<name>: every parameter under the C++ name (the mapping: tests/nn/torch_layer_names.py)
Output: <case>.out, <case>.dx, <case>.dmemory, <case>.grad.<name>. The layer runs in float64 on the
float32 values, so the differences the C++ side measures are its own float32 rounding.
"""
import os
import sys

try:
    import torch
except ImportError as error:
    print(f"reference_transformer_layers.py: cannot import torch ({error})", file=sys.stderr)
    sys.exit(3)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from reference_text import read_tensors, write_tensors  # noqa: E402  (tests/reference_text.py)

from torch_layer_names import CROSS, LAYER as PARAMS  # noqa: E402  (tests/nn/torch_layer_names.py)


def run_case(c):
    decoder, norm_first = bool(c["decoder"].item()), bool(c["norm_first"].item())
    activation = "gelu" if c["gelu"].item() else "relu"
    B, T, C = c["x"].shape
    kind = torch.nn.TransformerDecoderLayer if decoder else torch.nn.TransformerEncoderLayer
    layer = kind(C, int(c["n_head"].item()), dim_feedforward=int(c["dim_feedforward"].item()), dropout=0.0,
                 activation=activation, batch_first=True, norm_first=norm_first).double()
    assigned = set()
    with torch.no_grad():
        for name, p in layer.named_parameters():
            if name in PARAMS:
                p.copy_(c["param." + PARAMS[name]])
            else:
                part = CROSS[name]
                p.copy_(torch.cat([c["param.cross_attn.c_q." + part], c["param.cross_attn.c_kv." + part]], dim=0))
            assigned.add(name)
    assert assigned == {n for n, _ in layer.named_parameters()}
    layer.train()  # dropout 0: train mode only keeps PyTorch 1.13 off its inference fast path

    x = c["x"].clone().requires_grad_(True)
    padding = c["padding"].bool()
    if decoder:
        memory = c["memory"].clone().requires_grad_(True)
        causal = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)  # True: not allowed
        out = layer(x, memory, tgt_mask=causal, tgt_key_padding_mask=padding,
                    memory_key_padding_mask=c["memory_padding"].bool())
    else:
        out = layer(x, src_key_padding_mask=padding)
    (out * c["r"]).sum().backward()

    results = {"out": out, "dx": x.grad}
    if decoder:
        results["dmemory"] = memory.grad
    for name, p in layer.named_parameters():
        if name in PARAMS:
            results["grad." + PARAMS[name]] = p.grad
        else:
            results["grad.cross_attn.c_q." + CROSS[name]] = p.grad[:C]
            results["grad.cross_attn.c_kv." + CROSS[name]] = p.grad[C:]
    return results


def main():
    inputs = read_tensors(sys.argv[1])
    cases = {}
    for name, t in inputs.items():
        case, field = name.split(".", 1)
        cases.setdefault(case, {})[field] = t
    results = {}
    for case, fields in cases.items():
        for field, t in run_case(fields).items():
            results[f"{case}.{field}"] = t
    write_tensors(sys.argv[2], results)


if __name__ == "__main__":
    main()
