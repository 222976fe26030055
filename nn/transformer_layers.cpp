#include "nn/transformer_layers.h"

#include <stdexcept>

namespace gpt {

namespace {

void require(bool ok, const std::string& message) {
    if (!ok) throw std::invalid_argument("transformer layer: " + message);
}

// One residual sublayer, post-norm: ln(x + f(x)); pre-norm: x + f(ln(x)).
template <class F>
Tensor sublayer(const Tensor& x, const LayerNorm& ln, bool norm_first, F&& f) {
    return norm_first ? add(x, f(ln.forward(x))) : ln.forward(add(x, f(x)));
}

}  // namespace

void TransformerLayerOptions::validate() const {
    require(d_model > 0, "d_model must be positive, got " + std::to_string(d_model));
    require(n_head > 0 && d_model % n_head == 0,
            "n_head " + std::to_string(n_head) + " must be positive and divide d_model " + std::to_string(d_model));
    require(dim_feedforward > 0, "dim_feedforward must be positive, got " + std::to_string(dim_feedforward));
    require(dropout >= 0.0f && dropout < 1.0f, "dropout " + std::to_string(dropout) + " is outside [0, 1)");
    require(activation == "relu" || activation == "gelu" || activation == "gelu_tanh",
            "activation must be \"relu\", \"gelu\" or \"gelu_tanh\", got \"" + activation + "\"");
    require(layer_norm_eps > 0.0f, "layer_norm_eps must be positive, got " + std::to_string(layer_norm_eps));
}

TransformerSelfAttention::TransformerSelfAttention(const TransformerLayerOptions& options, AttentionMode mode)
    : n_head_(options.n_head), mode_(mode), attn_dropout_(options.dropout) {
    options.validate();
    const int64_t C = options.d_model;
    c_attn = register_module("c_attn", std::make_shared<Linear>(C, 3 * C));
    c_proj = register_module("c_proj", std::make_shared<Linear>(C, C));
    resid_dropout_ = register_module("resid_dropout", std::make_shared<Dropout>(options.dropout));
}

Tensor TransformerSelfAttention::forward(const Tensor& x, Generator& generator, const KeyPadding& padding,
                                         AttentionInference* inference) const {
    const Tensor y = self_attention(c_attn->forward(x), n_head_, n_head_, mode_, attn_dropout_, is_training(),
                                    generator, padding, inference);
    return resid_dropout_->forward(c_proj->forward(y), generator);
}

TransformerCrossAttention::TransformerCrossAttention(const TransformerLayerOptions& options)
    : n_head_(options.n_head), attn_dropout_(options.dropout) {
    options.validate();
    const int64_t C = options.d_model;
    c_q = register_module("c_q", std::make_shared<Linear>(C, C));
    c_kv = register_module("c_kv", std::make_shared<Linear>(C, 2 * C));
    c_proj = register_module("c_proj", std::make_shared<Linear>(C, C));
    resid_dropout_ = register_module("resid_dropout", std::make_shared<Dropout>(options.dropout));
}

Tensor TransformerCrossAttention::forward(const Tensor& x, const Tensor& kv, Generator& generator,
                                          const KeyPadding& padding, AttentionInference* inference) const {
    const Tensor y = cross_attention(c_q->forward(x), kv, n_head_, n_head_, attn_dropout_, is_training(), generator,
                                     padding, inference);
    return resid_dropout_->forward(c_proj->forward(y), generator);
}

TransformerFeedForward::TransformerFeedForward(const TransformerLayerOptions& options) : activation_(options.activation) {
    options.validate();
    c_fc = register_module("c_fc", std::make_shared<Linear>(options.d_model, options.dim_feedforward));
    c_proj = register_module("c_proj", std::make_shared<Linear>(options.dim_feedforward, options.d_model));
    hidden_dropout_ = register_module("hidden_dropout", std::make_shared<Dropout>(options.dropout));
    dropout_ = register_module("dropout", std::make_shared<Dropout>(options.dropout));
}

Tensor TransformerFeedForward::forward(const Tensor& x, Generator& generator) const {
    const Tensor h = c_fc->forward(x);
    const Tensor a = activation_ == "relu" ? relu(h) : activation_ == "gelu" ? gelu_erf(h) : gelu(h);
    return dropout_->forward(c_proj->forward(hidden_dropout_->forward(a, generator)), generator);
}

TransformerEncoderLayer::TransformerEncoderLayer(const TransformerLayerOptions& options)
    : norm_first_(options.norm_first) {
    options.validate();
    ln_1 = register_module("ln_1", std::make_shared<LayerNorm>(options.d_model, true, options.layer_norm_eps));
    attn = register_module("attn", std::make_shared<TransformerSelfAttention>(options, AttentionMode::bidirectional));
    ln_2 = register_module("ln_2", std::make_shared<LayerNorm>(options.d_model, true, options.layer_norm_eps));
    mlp = register_module("mlp", std::make_shared<TransformerFeedForward>(options));
}

Tensor TransformerEncoderLayer::forward(const Tensor& x, Generator& generator, const KeyPadding& padding,
                                        AttentionInference* inference) const {
    const Tensor h = sublayer(x, *ln_1, norm_first_,
                              [&](const Tensor& a) { return attn->forward(a, generator, padding, inference); });
    return sublayer(h, *ln_2, norm_first_, [&](const Tensor& a) { return mlp->forward(a, generator); });
}

TransformerDecoderLayer::TransformerDecoderLayer(const TransformerLayerOptions& options)
    : norm_first_(options.norm_first) {
    options.validate();
    ln_1 = register_module("ln_1", std::make_shared<LayerNorm>(options.d_model, true, options.layer_norm_eps));
    attn = register_module("attn", std::make_shared<TransformerSelfAttention>(options, AttentionMode::causal));
    ln_2 = register_module("ln_2", std::make_shared<LayerNorm>(options.d_model, true, options.layer_norm_eps));
    cross_attn = register_module("cross_attn", std::make_shared<TransformerCrossAttention>(options));
    ln_3 = register_module("ln_3", std::make_shared<LayerNorm>(options.d_model, true, options.layer_norm_eps));
    mlp = register_module("mlp", std::make_shared<TransformerFeedForward>(options));
}

Tensor TransformerDecoderLayer::forward_kv(const Tensor& x, const Tensor& memory_kv, Generator& generator,
                                           const DecoderAttentionOptions& o) const {
    const Tensor h = sublayer(x, *ln_1, norm_first_, [&](const Tensor& a) {
        return attn->forward(a, generator, o.target_padding, o.self_inference);
    });
    const Tensor c = sublayer(h, *ln_2, norm_first_, [&](const Tensor& a) {
        return cross_attn->forward(a, memory_kv, generator, o.memory_padding, o.cross_inference);
    });
    return sublayer(c, *ln_3, norm_first_, [&](const Tensor& a) { return mlp->forward(a, generator); });
}

}  // namespace gpt
