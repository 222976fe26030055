"""PyTorch's own modules as the reference for a bert GPT (model = bert: nn/gpt.h with bidirectional
attention), for tests/nn/test_bert.cpp: token + learned position embeddings → nn.TransformerEncoder of
nn.TransformerEncoderLayer(batch_first=True, norm_first=True, GELU (tanh)) → nn.LayerNorm → the tied head
(logits = h · wteᵀ) → F.cross_entropy(ignore_index=-100), the masked-LM loss.

Usage: reference_bert.py INPUT OUTPUT. Exits with status 3 when torch cannot be imported.
Input (tests/reference_text.py's format): n_head, ids [B, T], targets [B·T] (−100: not scored),
param.<name> for every parameter under the C++ name. Output: logits, loss, grad.<name>. Runs in float64
on the float32 values, so the differences the C++ side measures are its own float32 rounding.
"""
import os
import sys

try:
    import torch
    import torch.nn.functional as F
except ImportError as error:
    print(f"reference_bert.py: cannot import torch ({error})", file=sys.stderr)
    sys.exit(3)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from reference_text import read_tensors, write_tensors  # noqa: E402  (tests/reference_text.py)

from torch_layer_names import LAYER  # noqa: E402  (tests/nn/torch_layer_names.py)


def gelu_tanh(x):
    return F.gelu(x, approximate="tanh")


def main():
    t = read_tensors(sys.argv[1])
    ids = t["ids"].long()
    B, T = ids.shape
    wte = t["param.wte.weight"].clone().requires_grad_(True)
    wpe = t["param.wpe.weight"].clone().requires_grad_(True)
    V, C = wte.shape
    n_layer = len({k.split(".")[2] for k in t if k.startswith("param.h.")})
    layer = torch.nn.TransformerEncoderLayer(C, int(t["n_head"].item()), dim_feedforward=4 * C, dropout=0.0,
                                             activation=gelu_tanh, batch_first=True, norm_first=True)
    encoder = torch.nn.TransformerEncoder(layer, n_layer, enable_nested_tensor=False).double()
    ln_f = torch.nn.LayerNorm(C).double()
    names = {}
    with torch.no_grad():
        for name, p in encoder.named_parameters():  # layers.<l>.<torch name>
            _, l, rest = name.split(".", 2)
            names[name] = f"h.{l}.{LAYER[rest]}"
            p.copy_(t["param." + names[name]])
        for name, p in ln_f.named_parameters():
            names["ln_f." + name] = "ln_f." + name
            p.copy_(t["param.ln_f." + name])
    encoder.train()  # dropout 0: train mode only keeps PyTorch 1.13 off its inference fast path

    x = wte[ids] + wpe[:T]
    h = ln_f(encoder(x))
    logits = h @ wte.t()
    loss = F.cross_entropy(logits.reshape(B * T, V), t["targets"].long().reshape(-1), ignore_index=-100)
    loss.backward()
    results = {"logits": logits, "loss": loss.reshape(1), "grad.wte.weight": wte.grad, "grad.wpe.weight": wpe.grad}
    for name, p in encoder.named_parameters():
        results["grad." + names[name]] = p.grad
    for name, p in ln_f.named_parameters():
        results["grad.ln_f." + name] = p.grad
    write_tensors(sys.argv[2], results)


if __name__ == "__main__":
    main()
