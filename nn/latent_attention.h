// Multi-head latent attention (DeepSeek-V2, §2.1), d_h = C/H per head, H heads, no key/value heads:
//   c_KV = W_DKV·h                       [d_c]        c_kv_down   (the only thing cached, with k_R)
//   k_C,h = W_UK,h·c_KV, v_h = W_UV,h·c_KV  [d_h] each  c_k_up, c_v_up  (no bias: see below)
//   c_Q = W_DQ·h                         [d_c']       c_q_down  (only with q_latent_dim > 0)
//   q_C,h = W_UQ,h·c_Q  (or W_Q,h·h)     [d_h]        c_q_up (or c_q)
// with pos_encoding = "rope", the decoupled rotary part (RoPE op, NeoX pairing, positions 0..):
//   k_R = RoPE(W_KR·h)                   [d_R], shared by every head     c_k_rope
//   q_R,h = RoPE(W_QR,h·c_Q)  (or ·h)    [d_R] per head                   c_q_rope
//   q_h = [q_C,h; q_R,h], k_h = [k_C,h; k_R],  scores q_h·k_h / √(d_h + d_R)
// o_h = softmax(scores + causal mask) v_h;  y = c_proj(concat_h o_h), residual dropout.
// Without rope (learned/sinusoidal positions from wpe) d_R = 0 and the heads are d_h wide.
//
// Training and any pass without a cache run this explicit form through the fused attention op:
// q, k [B, T, H, d_h + d_R] and v padded with d_R zeros per head (the op wants one head width; the
// zeros' outputs are dropped), so the op's own 1/√(d_h + d_R) is the scale.
//
// With a KV cache the absorbed form runs instead (associativity, per head h and cached position j):
//   q_h·k_j = (W_UK,hᵀ q_C,h)·c_KV,j + q_R,h·k_R,j     o_h = W_UV,h (Σ_j P_hj c_KV,j)
// so every head attends over the same rows [c_KV,j; k_R,j] (d_c + d_R floats per token and layer: the
// whole cache) as one multi-query "head" whose value is the row itself, and the per-head keys and values
// of the prefix are never built. W_UK is applied to the new tokens' queries, W_UV to the attention's
// d_c-wide outputs, both per head on the T new rows only.
//
// No bias on c_k_up: a key bias adds q·b to every score of a query row, which softmax ignores. No bias
// on c_v_up: Σ_j P_j = 1 turns it into a constant that c_proj's bias can hold. Both would only be dead
// weights. No RMSNorm on the latents (DeepSeek's released code normalises c_Q and c_KV; the paper's
// equations do not): the block's ln_1 already normalises h.
#pragma once

#include "nn/gpt_config.h"
#include "nn/layers.h"
#include "nn/self_attention.h"

namespace gpt {

class LatentAttention : public SelfAttention {
public:
    explicit LatentAttention(const GPTConfig& config);
    // [B, T, C] → [B, T, C]. inference with a cache (keys set): the absorbed form over the cache's latent
    // rows (keys == values, d_c + d_R floats each); otherwise the explicit form (a probability sink only).
    // record (optional): receives c_KV [B, T, d_c] of this call's tokens (the explainer shows it), and in
    // the explicit form the op's qkv and output.
    Tensor forward(const Tensor& x, Generator& generator, AttentionInference* inference = nullptr,
                   AttentionRecord* record = nullptr) const override;
    const char* kind() const override { return "mla"; }

    int64_t latent_row() const { return d_c_ + d_R_; }  // floats cached per token

    std::shared_ptr<Linear> c_q;       // without q_latent_dim: C → H·d_h
    std::shared_ptr<Linear> c_q_down;  // with q_latent_dim: C → d_c'
    std::shared_ptr<Linear> c_q_up;    //                    d_c' → H·d_h
    std::shared_ptr<Linear> c_kv_down, c_k_up, c_v_up;
    std::shared_ptr<Linear> c_q_rope, c_k_rope;  // rope only
    std::shared_ptr<Linear> c_proj;

private:
    Tensor explicit_form(const Tensor& x, const Tensor& c_kv, Generator& generator, AttentionInference* inference,
                         AttentionRecord* record) const;
    Tensor absorbed_form(const Tensor& x, const Tensor& c_kv, Generator& generator, AttentionInference& inference) const;
    Tensor query_input(const Tensor& x) const { return c_q_down ? c_q_down->forward(x) : x; }
    Tensor query(const Tensor& q_in) const { return (c_q_up ? c_q_up : c_q)->forward(q_in); }

    int64_t H_, d_h_, d_c_, d_R_;
    float attn_dropout_;
    std::shared_ptr<Dropout> resid_dropout_;
};

}  // namespace gpt
