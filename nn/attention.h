// Masked multi-head self-attention with optional grouped-query attention.
//   c_attn: C → (H + 2·H_kv)·hd, rows ordered q (H heads), k (H_kv heads), v (H_kv heads).
//   Query head h reads key/value head h / (H / H_kv): consecutive query heads share one, as
//   torch.repeat_interleave arranges them. H_kv = H is classic MHA, H_kv = 1 multi-query.
//   y = c_proj(concat_h softmax(q_h k_gᵀ / √hd + causal mask) v_g), then residual dropout.
//   model = "bert" (GPTConfig::bidirectional): the same without the causal mask (the attention op's
//   AttentionMode::bidirectional): every query sees every key; no key/value cache.
//   With qk_norm, each q and k head is RMS-normalised and scaled by the gains q_norm.weight / k_norm.weight
//   [hd] (the qk_rms_norm op on the fused qkv), before rope.
//   With pos_encoding = "rope", q and k of every head are rotated by their position (the rope op on the
//   fused qkv; positions continue from the cache's length) before the attention op.
#pragma once

#include "nn/gpt_config.h"
#include "nn/latent_attention.h"
#include "nn/self_attention.h"
#include "nn/layers.h"

namespace gpt {

class CausalSelfAttention : public SelfAttention {
public:
    explicit CausalSelfAttention(const GPTConfig& config);
    // [B, T, C] → [B, T, C]. `inference` (optional) hands the attention op this layer's key/value cache
    // and probability sink (autograd/ops.h, AttentionInference); `record` (optional) receives qkv and heads.
    Tensor forward(const Tensor& x, Generator& generator, AttentionInference* inference = nullptr,
                   AttentionRecord* record = nullptr) const override;
    const char* kind() const override { return "mha"; }

    int64_t n_head() const { return n_head_; }
    int64_t n_kv_head() const { return n_kv_head_; }

    std::shared_ptr<Linear> c_attn;
    std::shared_ptr<Linear> c_proj;
    std::shared_ptr<Norm> q_norm, k_norm;  // qk_norm only (RMSNorm gains [hd]); else null

private:
    int64_t n_head_;
    int64_t n_kv_head_;
    bool rope_;
    AttentionMode mode_;
    float attn_dropout_;
    std::shared_ptr<Dropout> resid_dropout_;
};

// Position-wise feed-forward, by GPTConfig::mlp, D = mlp_hidden_dim() (4C by default):
//   gelu:   C → D, GELU (tanh), D → C, dropout
//   relu2:  C → D, max(0, ·)², D → C, dropout
//   swiglu: C → 2D (rows 0..D-1 the gate a, D..2D-1 the value b), silu(a) ⊙ b, D → C, dropout
class MLP : public Module {
public:
    explicit MLP(const GPTConfig& config);
    // `fc_out` and `gelu_out` (optional) receive c_fc's output [B, T, D] (or [B, T, 2D] for swiglu) and the
    // activation's output [B, T, D] (gpt serve's forward view; GELU's by default, else the configured
    // activation's).
    Tensor forward(const Tensor& x, Generator& generator, Tensor* gelu_out = nullptr, Tensor* fc_out = nullptr) const;

    std::shared_ptr<Linear> c_fc;
    std::shared_ptr<Linear> c_proj;

private:
    std::string kind_;
    std::shared_ptr<Dropout> dropout_;
};

// What one block's forward passes through, for those who look inside (nn/gpt.h, ForwardProbe), in the
// order it computes them. Handles to the tensors the forward computed, not copies. Shapes [B, T, ·].
struct BlockActivations {
    Tensor attn_in;             // ln_1(x) [C]
    AttentionRecord attention;  // q, k, v and the heads' outputs (nn/self_attention.h)
    Tensor attn_out;            // attn(ln_1(x)): c_proj of the heads (after dropout) [C]
    Tensor residual_mid;        // h = x + attn_out [C]
    Tensor mlp_in;              // ln_2(h) [C]
    Tensor fc;                  // c_fc(ln_2(h)) [D], swiglu [2D]: gate then value
    Tensor gelu;                // the activation's output [D]
    Tensor mlp_out;             // c_proj of the activation (after dropout) [C]
    Tensor out;                 // h + mlp_out [C]
};

// Pre-norm residual block: x + attn(ln_1(x)), then x + mlp(ln_2(x)) (ln_*: LayerNorm or RMSNorm). The only place the block's
// forward is written: training, evaluation, generation (with a cache) and the report all run it.
// The attention is a SelfAttention (nn/self_attention.h): CausalSelfAttention (attention = "mha") or
// LatentAttention ("mla"), registered as "attn" either way.
// Each residual add is fused with the norm that reads its sum (Norm::add_forward, add_layer_norm): ln_2
// inside the block, and across blocks the next block's ln_1 (or the model's ln_f) when the caller names
// it: the chained forward takes x with ln_1(x) already computed and returns its output with next(out).
class Block : public Module {
public:
    explicit Block(const GPTConfig& config);
    // x [B, T, C] → the block's output [B, T, C].
    Tensor forward(const Tensor& x, Generator& generator, AttentionInference* inference = nullptr,
                   BlockActivations* record = nullptr) const {
        return forward(x, ln_1->forward(x), nullptr, generator, inference, record).sum;
    }
    // The same on x and x_normed = ln_1(x) (the previous block computed both); returns the output as sum
    // and, when `next` is given, next->forward(output) as normed (undefined otherwise).
    AddNorm forward(const Tensor& x, const Tensor& x_normed, const Norm* next, Generator& generator,
                    AttentionInference* inference = nullptr, BlockActivations* record = nullptr) const;

    std::shared_ptr<Norm> ln_1;
    std::shared_ptr<SelfAttention> attn;
    std::shared_ptr<Norm> ln_2;
    std::shared_ptr<MLP> mlp;
};

}  // namespace gpt
