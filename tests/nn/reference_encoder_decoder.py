"""PyTorch 1.13's own nn.Transformer(batch_first=True) on the weights and inputs the C++ test wrote, for
tests/nn/test_encoder_decoder.cpp: an independent reference for nn/encoder_decoder.h. Around
nn.Transformer, as the model defines them: token embeddings times √C plus the sinusoidal table, the
output projection (tied to the target embedding or not), and F.cross_entropy with ignore_index=-100 and
label_smoothing. Post-norm: nn.Transformer's encoder.norm and decoder.norm are set to None (the paper's
post-norm Transformer has no final norm; nn/encoder_decoder.h has none); pre-norm keeps them.

Usage: reference_encoder_decoder.py INPUT OUTPUT; exit status 3 when torch cannot be imported.

Input (tests/reference_text.py's format), per case "<case>.<field>":
  norm_first, gelu, n_head, dim_feedforward, n_encoder_layer, n_decoder_layer, shared, tied,
  label_smoothing: scalars
  source [B, S], target_in [B, T], target_out [B, T] (−100: no loss): ids as floats
  source_padding [B, S], target_padding [B, T]: 1 = padded
  param.<name>: every parameter under the C++ name
Output: <case>.logits, <case>.loss, <case>.grad.<name>, computed in float64.
"""
import math
import os
import sys

try:
    import torch
    import torch.nn.functional as F
except ImportError as error:
    print(f"reference_encoder_decoder.py: cannot import torch ({error})", file=sys.stderr)
    sys.exit(3)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from reference_text import read_tensors, write_tensors  # noqa: E402

from torch_layer_names import CROSS, LAYER  # noqa: E402  (tests/nn/torch_layer_names.py)


def cpp_name(torch_name):
    """torch name -> (C++ name, cross part or None)."""
    stack, rest = torch_name.split(".", 1)
    if rest.startswith("norm."):
        return f"{stack}.ln_f.{rest[5:]}", None
    _, index, inner = rest.split(".", 2)  # layers.<i>.<inner>
    if inner in CROSS:
        return f"{stack}.h.{index}.cross_attn", CROSS[inner]
    return f"{stack}.h.{index}.{LAYER[inner]}", None


def sinusoidal(T, C):
    pe = torch.zeros(T, C, dtype=torch.float64)
    for p in range(T):
        for j in range(C):
            angle = p / 10000 ** ((j - j % 2) / C)
            pe[p, j] = math.sin(angle) if j % 2 == 0 else math.cos(angle)
    return pe


def run_case(c):
    norm_first = bool(c["norm_first"].item())
    C = c["param.wte.weight"].shape[1]
    model = torch.nn.Transformer(
        d_model=C, nhead=int(c["n_head"].item()), num_encoder_layers=int(c["n_encoder_layer"].item()),
        num_decoder_layers=int(c["n_decoder_layer"].item()), dim_feedforward=int(c["dim_feedforward"].item()),
        dropout=0.0, activation="gelu" if c["gelu"].item() else "relu", batch_first=True,
        norm_first=norm_first).double()
    if not norm_first:
        model.encoder.norm = None
        model.decoder.norm = None
    with torch.no_grad():
        for name, p in model.named_parameters():
            target, part = cpp_name(name)
            if part is None:
                p.copy_(c["param." + target])
            else:
                p.copy_(torch.cat([c[f"param.{target}.c_q.{part}"], c[f"param.{target}.c_kv.{part}"]], dim=0))
    model.train()  # dropout 0; train mode keeps PyTorch 1.13 off its inference fast path

    wte = c["param.wte.weight"].clone().requires_grad_(True)
    extra = {"wte.weight": wte}
    wte_source = wte
    if "param.wte_source.weight" in c:
        wte_source = c["param.wte_source.weight"].clone().requires_grad_(True)
        extra["wte_source.weight"] = wte_source
    head = wte
    if "param.lm_head.weight" in c:
        head = c["param.lm_head.weight"].clone().requires_grad_(True)
        extra["lm_head.weight"] = head

    source, target_in = c["source"].long(), c["target_in"].long()
    S, T = source.shape[1], target_in.shape[1]
    src = F.embedding(source, wte_source) * math.sqrt(C) + sinusoidal(S, C)
    tgt = F.embedding(target_in, wte) * math.sqrt(C) + sinusoidal(T, C)
    causal = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)
    source_padding = c["source_padding"].bool()
    out = model(src, tgt, tgt_mask=causal, src_key_padding_mask=source_padding,
                tgt_key_padding_mask=c["target_padding"].bool(), memory_key_padding_mask=source_padding)
    logits = out @ head.t()
    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), c["target_out"].long().reshape(-1),
                           ignore_index=-100, label_smoothing=float(c["label_smoothing"].item()))
    loss.backward()

    results = {"logits": logits, "loss": loss}
    for name, t in extra.items():
        results["grad." + name] = t.grad
    for name, p in model.named_parameters():
        target, part = cpp_name(name)
        if part is None:
            results["grad." + target] = p.grad
        else:
            results[f"grad.{target}.c_q.{part}"] = p.grad[:C]
            results[f"grad.{target}.c_kv.{part}"] = p.grad[C:]
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
