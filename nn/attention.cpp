#include "nn/attention.h"

namespace gpt {

CausalSelfAttention::CausalSelfAttention(const GPTConfig& config)
    : n_head_(config.n_head), n_kv_head_(config.kv_heads()), rope_(config.rope()),
      mode_(config.bidirectional() ? AttentionMode::bidirectional : AttentionMode::causal), attn_dropout_(config.dropout) {
    const int64_t hd = config.head_dim();
    c_attn = register_module("c_attn",
                             std::make_shared<Linear>(config.n_embd, (n_head_ + 2 * n_kv_head_) * hd, config.bias));
    c_proj = register_module("c_proj", std::make_shared<Linear>(config.n_embd, config.n_embd, config.bias));
    resid_dropout_ = std::make_shared<Dropout>(config.dropout);
    register_module("resid_dropout", resid_dropout_);
    if (config.qk_norm) {
        q_norm = register_module("q_norm", std::make_shared<Norm>("rmsnorm", hd, false));
        k_norm = register_module("k_norm", std::make_shared<Norm>("rmsnorm", hd, false));
    }
}

Tensor CausalSelfAttention::forward(const Tensor& x, Generator& generator, AttentionInference* inference,
                                    AttentionRecord* record) const {
    Tensor qkv = c_attn->forward(x);  // [B, T, (H + 2·H_kv)·hd]
    if (q_norm) qkv = qk_rms_norm(qkv, q_norm->weight, k_norm->weight, n_head_, n_kv_head_);
    if (rope_) {  // rotate the q and k heads; v passes through
        const int64_t hd = qkv.size(2) / (n_head_ + 2 * n_kv_head_);
        const int64_t start = inference && inference->keys ? inference->cached : 0;
        qkv = rope(qkv, hd, n_head_ + n_kv_head_, start);
    }
    const Tensor y =
        mode_ == AttentionMode::causal
            ? causal_self_attention(qkv, n_head_, n_kv_head_, attn_dropout_, is_training(), generator, inference)
            : self_attention(qkv, n_head_, n_kv_head_, mode_, attn_dropout_, is_training(), generator, {}, inference);
    if (record) {
        record->qkv = qkv;
        record->heads = y;
    }
    return resid_dropout_->forward(c_proj->forward(y), generator);
}

MLP::MLP(const GPTConfig& config) : kind_(config.mlp) {
    const int64_t D = config.mlp_hidden_dim();
    c_fc = register_module("c_fc", std::make_shared<Linear>(config.n_embd, kind_ == "swiglu" ? 2 * D : D, config.bias));
    c_proj = register_module("c_proj", std::make_shared<Linear>(D, config.n_embd, config.bias));
    dropout_ = register_module("dropout", std::make_shared<Dropout>(config.dropout));
}

Tensor MLP::forward(const Tensor& x, Generator& generator, Tensor* gelu_out, Tensor* fc_out) const {
    // c_fc and GELU as one op (linear_gelu: the bits of linear then gelu, a backward in fewer passes),
    // unless the pre-activation is asked for as a tensor of its own or c_fc computes with bf16 weights.
    const bool fused = kind_ == "gelu" && !fc_out && !(c_fc->has_bf16_copy() && !grad_enabled());
    const Tensor fc = fused ? Tensor() : c_fc->forward(x);
    if (fc_out) *fc_out = fc;
    const Tensor activations = fused              ? linear_gelu(x, c_fc->weight, c_fc->bias)
                               : kind_ == "swiglu" ? swiglu(fc)
                               : kind_ == "relu2"  ? relu_squared(fc)
                                                   : gelu(fc);
    if (gelu_out) *gelu_out = activations;
    return dropout_->forward(c_proj->forward(activations), generator);
}

Block::Block(const GPTConfig& config) {
    ln_1 = register_module("ln_1", std::make_shared<Norm>(config.norm, config.n_embd, config.bias));
    if (config.mla())
        attn = register_module("attn", std::make_shared<LatentAttention>(config));
    else
        attn = register_module("attn", std::make_shared<CausalSelfAttention>(config));
    ln_2 = register_module("ln_2", std::make_shared<Norm>(config.norm, config.n_embd, config.bias));
    mlp = register_module("mlp", std::make_shared<MLP>(config));
}

AddNorm Block::forward(const Tensor& x, const Tensor& x_normed, const Norm* next, Generator& generator,
                       AttentionInference* inference, BlockActivations* record) const {
    const Tensor attended = attn->forward(x_normed, generator, inference, record ? &record->attention : nullptr);
    const AddNorm mid = ln_2->add_forward(x, attended);  // h = x + attended, m = ln_2(h)
    const Tensor mlp_out =
        mlp->forward(mid.normed, generator, record ? &record->gelu : nullptr, record ? &record->fc : nullptr);
    const AddNorm out = next ? next->add_forward(mid.sum, mlp_out) : AddNorm{add(mid.sum, mlp_out), Tensor()};
    if (record) {
        record->attn_in = x_normed;
        record->attn_out = attended;
        record->residual_mid = mid.sum;
        record->mlp_in = mid.normed;
        record->mlp_out = mlp_out;
        record->out = out.sum;
    }
    return out;
}

}  // namespace gpt
