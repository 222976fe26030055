#include "nn/latent_attention.h"

#include <cmath>

namespace gpt {

LatentAttention::LatentAttention(const GPTConfig& config)
    : H_(config.n_head),
      d_h_(config.head_dim()),
      d_c_(config.kv_latent_dim),
      d_R_(config.mla_rope_dim()),
      attn_dropout_(static_cast<float>(config.dropout)) {
    const int64_t C = config.n_embd, q_in = config.q_latent_dim > 0 ? config.q_latent_dim : C;
    const bool bias = config.bias;
    if (config.q_latent_dim > 0) {
        c_q_down = register_module("c_q_down", std::make_shared<Linear>(C, config.q_latent_dim, bias));
        c_q_up = register_module("c_q_up", std::make_shared<Linear>(config.q_latent_dim, H_ * d_h_, bias));
    } else {
        c_q = register_module("c_q", std::make_shared<Linear>(C, H_ * d_h_, bias));
    }
    c_kv_down = register_module("c_kv_down", std::make_shared<Linear>(C, d_c_, bias));
    c_k_up = register_module("c_k_up", std::make_shared<Linear>(d_c_, H_ * d_h_, false));
    c_v_up = register_module("c_v_up", std::make_shared<Linear>(d_c_, H_ * d_h_, false));
    if (d_R_ > 0) {
        c_q_rope = register_module("c_q_rope", std::make_shared<Linear>(q_in, H_ * d_R_, bias));
        c_k_rope = register_module("c_k_rope", std::make_shared<Linear>(C, d_R_, bias));
    }
    c_proj = register_module("c_proj", std::make_shared<Linear>(H_ * d_h_, C, bias));
    resid_dropout_ = register_module("resid_dropout", std::make_shared<Dropout>(config.dropout));
}

Tensor LatentAttention::forward(const Tensor& x, Generator& generator, AttentionInference* inference,
                                AttentionRecord* record) const {
    const bool cached = inference && inference->keys;
    const Tensor c_kv = c_kv_down->forward(x);  // [B, T, d_c]
    if (record) record->latent = c_kv;
    const Tensor y = cached ? absorbed_form(x, c_kv, generator, *inference)
                            : explicit_form(x, c_kv, generator, inference, record);
    return resid_dropout_->forward(c_proj->forward(y), generator);
}

// x [B, T, C] → the heads' outputs [B, T, H·d_h] (before c_proj).
Tensor LatentAttention::explicit_form(const Tensor& x, const Tensor& c_kv, Generator& generator,
                                      AttentionInference* inference, AttentionRecord* record) const {
    const int64_t B = x.size(0), T = x.size(1), w = d_h_ + d_R_;
    const Tensor q_in = query_input(x);
    Tensor q = query(q_in), k = c_k_up->forward(c_kv), v = c_v_up->forward(c_kv);  // [B, T, H·d_h] each
    if (d_R_ > 0) {
        const Shape heads{B, T, H_, d_h_};
        const Tensor q_r = reshape(rope(c_q_rope->forward(q_in), d_R_, H_), {B, T, H_, d_R_});
        const Tensor k_r = reshape(rope(c_k_rope->forward(x), d_R_, 1), {B, T, 1, d_R_});
        const Tensor k_r_per_head = add(k_r, Tensor::zeros({H_, 1}));  // broadcast: [B, T, H, d_R]
        q = concat({reshape(q, heads), q_r}, 3);
        k = concat({reshape(k, heads), k_r_per_head}, 3);
        v = concat({reshape(v, heads), Tensor::zeros({B, T, H_, d_R_})}, 3);
    }
    const Shape flat{B, T, H_ * w};
    const Tensor qkv = concat({reshape(q, flat), reshape(k, flat), reshape(v, flat)}, 2);  // [B, T, 3·H·w]
    const Tensor y = causal_self_attention(qkv, H_, H_, attn_dropout_, is_training(), generator, inference);
    if (record) {
        record->qkv = qkv;
        record->heads = y;
    }
    if (d_R_ == 0) return y;
    return reshape(split(reshape(y, {B, T, H_, w}), {d_h_, d_R_}, 3)[0], {B, T, H_ * d_h_});
}

// One sequence (B = 1) against the cache's latent rows; see the header for the algebra. x [1, T, C].
Tensor LatentAttention::absorbed_form(const Tensor& x, const Tensor& c_kv, Generator& generator,
                                      AttentionInference& inference) const {
    const int64_t T = x.size(1), w = d_c_ + d_R_, start = inference.cached;
    check(x.size(0) == 1, "LatentAttention", "a key/value cache holds one sequence, got batch " + std::to_string(x.size(0)));
    const Tensor q_in = query_input(x);  // c_kv: [1, T, d_c]
    // q̃_h = W_UK,hᵀ q_C,h: [H, T, d_h] · [H, d_h, d_c] → [H, T, d_c]
    const Tensor q_heads = permute(reshape(query(q_in), {T, H_, d_h_}), {1, 0, 2});
    Tensor q = permute(matmul(q_heads, reshape(c_k_up->weight, {H_, d_h_, d_c_})), {1, 0, 2});  // [T, H, d_c]
    Tensor row = c_kv;
    if (d_R_ > 0) {
        q = concat({q, reshape(rope(c_q_rope->forward(q_in), d_R_, H_, start), {T, H_, d_R_})}, 2);
        row = concat({c_kv, rope(c_k_rope->forward(x), d_R_, 1, start)}, 2);  // [1, T, d_c + d_R]
    }
    // The op divides by √w; the scores must be divided by √(d_h + d_R), as in the explicit form.
    q = mul_scalar(q, static_cast<float>(std::sqrt(static_cast<double>(w) / static_cast<double>(d_h_ + d_R_))));
    const Tensor qkv = concat({reshape(q, {1, T, H_ * w}), row, row}, 2);  // one kv "head": the latent row
    inference.values = inference.keys;  // the row is the key and the value: stored once
    const Tensor y = causal_self_attention(qkv, H_, 1, 0.0f, false, generator, &inference);
    // o_h = W_UV,h · (Σ_j P_hj c_KV,j): [H, T, d_c] · [H, d_h, d_c]ᵀ → [H, T, d_h]
    Tensor latent = reshape(y, {T, H_, w});
    if (d_R_ > 0) latent = split(latent, {d_c_, d_R_}, 2)[0];
    const Tensor o = matmul(permute(latent, {1, 0, 2}), reshape(c_v_up->weight, {H_, d_h_, d_c_}), true);
    return reshape(permute(o, {1, 0, 2}), {1, T, H_ * d_h_});
}

}  // namespace gpt
