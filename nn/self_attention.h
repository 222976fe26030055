// The one self-attention interface a block holds: x [B, T, C] → [B, T, C]. Implemented by multi-head
// attention (nn/attention.h: MHA, GQA, MQA) and multi-head latent attention (nn/latent_attention.h);
// both run the one attention op (autograd/ops.h causal_self_attention), registered under the block's
// "attn" name whatever the kind, so the HDF5 names are "h.<l>.attn.<projection>".
#pragma once

#include "autograd/ops.h"
#include "nn/module.h"

namespace gpt {

class SelfAttention : public Module {
public:
    // generator: dropout's random stream. inference (optional): the op's key/value cache and probability
    // sink (autograd/ops.h AttentionInference). cache_out (optional): what this layer's cache keeps per
    // token when that is not its keys and values (latent attention's c_KV [B, T, d_c]); left undefined
    // by attentions that cache k and v.
    virtual Tensor forward(const Tensor& x, Generator& generator, AttentionInference* inference = nullptr,
                           Tensor* cache_out = nullptr) const = 0;
    // "mha" or "mla": the family, for views that draw the layer as it is.
    virtual const char* kind() const = 0;
};

}  // namespace gpt
