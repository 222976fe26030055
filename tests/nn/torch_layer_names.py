"""The names of PyTorch 1.13's nn.TransformerEncoderLayer / nn.TransformerDecoderLayer parameters and the
C++ layer's (nn/transformer_layers.h), shared by the reference scripts of tests/nn/. The same [out, in]
layout; in_proj is q, k, v stacked as c_attn; the cross attention's in_proj is split into c_q (rows [0, C))
and c_kv (rows [C, 3C)), which CROSS marks."""

# torch parameter of one layer -> the C++ layer's parameter
LAYER = {
    "self_attn.in_proj_weight": "attn.c_attn.weight", "self_attn.in_proj_bias": "attn.c_attn.bias",
    "self_attn.out_proj.weight": "attn.c_proj.weight", "self_attn.out_proj.bias": "attn.c_proj.bias",
    "linear1.weight": "mlp.c_fc.weight", "linear1.bias": "mlp.c_fc.bias",
    "linear2.weight": "mlp.c_proj.weight", "linear2.bias": "mlp.c_proj.bias",
    "norm1.weight": "ln_1.weight", "norm1.bias": "ln_1.bias",
    "norm2.weight": "ln_2.weight", "norm2.bias": "ln_2.bias",
    "norm3.weight": "ln_3.weight", "norm3.bias": "ln_3.bias",
    "multihead_attn.out_proj.weight": "cross_attn.c_proj.weight",
    "multihead_attn.out_proj.bias": "cross_attn.c_proj.bias",
}
# the cross attention's in_proj: "weight" / "bias" of c_q and c_kv
CROSS = {"multihead_attn.in_proj_weight": "weight", "multihead_attn.in_proj_bias": "bias"}
