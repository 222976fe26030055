// The one self-attention interface a block holds: x [B, T, C] → [B, T, C]. Implemented by multi-head
// attention (nn/attention.h: MHA, GQA, MQA) and multi-head latent attention (nn/latent_attention.h);
// both run the one attention op (autograd/ops.h causal_self_attention), registered under the block's
// "attn" name whatever the kind, so the HDF5 names are "h.<l>.attn.<projection>".
#pragma once

#include "autograd/ops.h"
#include "nn/module.h"

namespace gpt {

// What one attention layer computed, for those who look inside (gpt serve's stage views): handles to the
// forward's own tensors, not copies. Left undefined by a pass that does not run the form they describe.
struct AttentionRecord {
    // The attention op's input and output (autograd/ops.h, AttentionLayout): qkv [B, T, (H + 2·H_kv)·d]
    // holds every head's q, k and v as the op reads them (after qk_norm and rope); heads [B, T, H·d] is
    // each head's Σ_j p_ij v_j, before c_proj. Multi-head latent attention (explicit form): its q, k, v
    // (H_kv = H, d = d_h + d_R, v padded with d_R zeros). Not recorded through a key/value cache.
    Tensor qkv;
    Tensor heads;
    Tensor latent;  // mla: c_KV [B, T, d_c], what its cache keeps per token; else undefined
};

class SelfAttention : public Module {
public:
    // generator: dropout's random stream. inference (optional): the op's key/value cache and probability
    // sink (autograd/ops.h AttentionInference). record (optional): receives what the layer computed.
    virtual Tensor forward(const Tensor& x, Generator& generator, AttentionInference* inference = nullptr,
                           AttentionRecord* record = nullptr) const = 0;
    // "mha" or "mla": the family, for views that draw the layer as it is.
    virtual const char* kind() const = 0;
};

}  // namespace gpt
