// The encoder and decoder layers of the original Transformer (Vaswani et al., 2017) and of BERT, computed
// as PyTorch's nn.TransformerEncoderLayer / nn.TransformerDecoderLayer compute them (batch_first), on the
// fused attention op's bidirectional, causal and cross modes (autograd/ops.h; docs/attention.md).
//
// Encoder layer, x [B, T, C] (post-norm, the paper's; pre-norm with norm_first):
//   post: x = ln_1(x + attn(x)),           x = ln_2(x + mlp(x))
//   pre:  x = x + attn(ln_1(x)),           x = x + mlp(ln_2(x))
// Decoder layer, x [B, T, C] and the encoder's output memory [B, S, C]:
//   post: x = ln_1(x + attn(x)),  x = ln_2(x + cross_attn(x, memory)),  x = ln_3(x + mlp(x))
//   pre:  x = x + attn(ln_1(x)),  x = x + cross_attn(ln_2(x), memory),  x = x + mlp(ln_3(x))
// (pre-norm does not normalise memory inside the layer: nn.Transformer's encoder ends with its own norm.)
//   attn:       bidirectional (encoder) or causal (decoder) self-attention, c_attn C → 3C (q, k, v
//               blocks), the op with dropout on its probabilities, c_proj C → C, dropout.
//   cross_attn: c_q C → C on x, c_kv C → 2C (k, v blocks) on memory, the op, c_proj C → C, dropout.
//   mlp:        c_fc C → F, activation, dropout, c_proj F → C, dropout.
//
// Parameter names and PyTorch's (the parity test maps them so; weights are [out, in] in both):
//   attn.c_attn.{weight,bias}       self_attn.in_proj_{weight,bias}
//   attn.c_proj.{weight,bias}       self_attn.out_proj.{weight,bias}
//   cross_attn.c_q.{weight,bias}    multihead_attn.in_proj_{weight,bias}[0:C]
//   cross_attn.c_kv.{weight,bias}   multihead_attn.in_proj_{weight,bias}[C:3C]
//   cross_attn.c_proj.*             multihead_attn.out_proj.*
//   mlp.c_fc.*, mlp.c_proj.*        linear1.*, linear2.*
//   ln_1, ln_2, ln_3                norm1, norm2, norm3
// Parameters start as nn/layers.h leaves them (zero weights, LayerNorm 1/0): initialise before use.
#pragma once

#include <memory>
#include <string>

#include "autograd/ops.h"
#include "nn/layers.h"
#include "nn/module.h"

namespace gpt {

struct TransformerLayerOptions {
    int64_t d_model = 0;          // C
    int64_t n_head = 0;           // divides C
    int64_t dim_feedforward = 0;  // F
    // Dropout on the attention probabilities, on each sublayer's output and on the feed-forward's hidden
    // activations (PyTorch's three places), in train mode only.
    float dropout = 0.0f;
    // "relu" (the paper's), "gelu" (exact, erf: BERT's and PyTorch's "gelu"), "gelu_tanh" (GPT-2's).
    std::string activation = "relu";
    bool norm_first = false;  // false: post-norm (the paper's), true: pre-norm
    float layer_norm_eps = 1e-5f;

    // Throws std::invalid_argument naming the first bad field.
    void validate() const;
};

// Multi-head self-attention in a given mode (bidirectional: an encoder; causal: a decoder).
class TransformerSelfAttention : public Module {
public:
    TransformerSelfAttention(const TransformerLayerOptions& options, AttentionMode mode);
    // x [B, T, C] → [B, T, C]. padding: keys to leave out per batch row (autograd/ops.h KeyPadding).
    // inference: the op's probability sink, and in causal mode its key/value cache.
    Tensor forward(const Tensor& x, Generator& generator, const KeyPadding& padding = {},
                   AttentionInference* inference = nullptr) const;

    std::shared_ptr<Linear> c_attn, c_proj;

private:
    int64_t n_head_;
    AttentionMode mode_;
    float attn_dropout_;
    std::shared_ptr<Dropout> resid_dropout_;
};

// Encoder–decoder attention: the decoder's queries over the encoder's keys and values.
class TransformerCrossAttention : public Module {
public:
    explicit TransformerCrossAttention(const TransformerLayerOptions& options);
    // The keys and values of memory [B, S, C] → [B, S, 2C]: what generation computes once per source.
    Tensor memory_kv(const Tensor& memory) const { return c_kv->forward(memory); }
    // x [B, T, C], kv = memory_kv(memory) → [B, T, C]. padding: the memory's padded positions.
    Tensor forward(const Tensor& x, const Tensor& kv, Generator& generator, const KeyPadding& padding = {},
                   AttentionInference* inference = nullptr) const;

    std::shared_ptr<Linear> c_q, c_kv, c_proj;

private:
    int64_t n_head_;
    float attn_dropout_;
    std::shared_ptr<Dropout> resid_dropout_;
};

// Position-wise feed-forward: c_fc C → F, activation, dropout, c_proj F → C, dropout.
class TransformerFeedForward : public Module {
public:
    explicit TransformerFeedForward(const TransformerLayerOptions& options);
    Tensor forward(const Tensor& x, Generator& generator) const;

    std::shared_ptr<Linear> c_fc, c_proj;

private:
    std::string activation_;
    std::shared_ptr<Dropout> hidden_dropout_, dropout_;
};

class TransformerEncoderLayer : public Module {
public:
    explicit TransformerEncoderLayer(const TransformerLayerOptions& options);
    // x [B, T, C] → [B, T, C]; padding: the padded positions of each sequence (PyTorch's
    // src_key_padding_mask). A padded position's own output is computed like any other: ignore it.
    Tensor forward(const Tensor& x, Generator& generator, const KeyPadding& padding = {},
                   AttentionInference* inference = nullptr) const;

    std::shared_ptr<LayerNorm> ln_1;
    std::shared_ptr<TransformerSelfAttention> attn;
    std::shared_ptr<LayerNorm> ln_2;
    std::shared_ptr<TransformerFeedForward> mlp;

private:
    bool norm_first_;
};

// The masks and inference hooks of a decoder layer's two attentions.
struct DecoderAttentionOptions {
    KeyPadding target_padding;  // PyTorch's tgt_key_padding_mask (the causal mask is always applied)
    KeyPadding memory_padding;  // memory_key_padding_mask
    AttentionInference* self_inference = nullptr;   // sink and key/value cache of the causal self-attention
    AttentionInference* cross_inference = nullptr;  // sink of the cross attention
};

class TransformerDecoderLayer : public Module {
public:
    explicit TransformerDecoderLayer(const TransformerLayerOptions& options);
    // x [B, T, C], memory [B, S, C] → [B, T, C].
    Tensor forward(const Tensor& x, const Tensor& memory, Generator& generator,
                   const DecoderAttentionOptions& attention = {}) const {
        return forward_kv(x, cross_attn->memory_kv(memory), generator, attention);
    }
    // The same with memory's keys and values already projected (cross_attn->memory_kv(memory)).
    Tensor forward_kv(const Tensor& x, const Tensor& memory_kv, Generator& generator,
                      const DecoderAttentionOptions& attention = {}) const;

    std::shared_ptr<LayerNorm> ln_1;
    std::shared_ptr<TransformerSelfAttention> attn;
    std::shared_ptr<LayerNorm> ln_2;
    std::shared_ptr<TransformerCrossAttention> cross_attn;
    std::shared_ptr<LayerNorm> ln_3;
    std::shared_ptr<TransformerFeedForward> mlp;

private:
    bool norm_first_;
};

}  // namespace gpt
