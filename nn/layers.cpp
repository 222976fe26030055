#include "nn/layers.h"

#include <stdexcept>
#include <string>

namespace gpt {

static void check_positive(const char* layer, const char* what, int64_t value) {
    if (value <= 0)
        throw std::invalid_argument(std::string(layer) + ": " + what + " must be positive, got " + std::to_string(value));
}

// Values are set by initialisation (nn/init.h); zeros here so an uninitialised model is still defined.
Linear::Linear(int64_t in_features, int64_t out_features, bool has_bias) {
    check_positive("Linear", "in_features", in_features);
    check_positive("Linear", "out_features", out_features);
    weight = register_parameter("weight", Tensor::zeros({out_features, in_features}));
    if (has_bias) bias = register_parameter("bias", Tensor::zeros({out_features}));
}

Embedding::Embedding(int64_t num_embeddings, int64_t embedding_dim) {
    check_positive("Embedding", "num_embeddings", num_embeddings);
    check_positive("Embedding", "embedding_dim", embedding_dim);
    weight = register_parameter("weight", Tensor::zeros({num_embeddings, embedding_dim}));
}

LayerNorm::LayerNorm(int64_t features, bool has_bias, float eps) : eps_(eps) {
    check_positive("LayerNorm", "features", features);
    weight = register_parameter("weight", Tensor::full({features}, 1.0f));
    if (has_bias) bias = register_parameter("bias", Tensor::zeros({features}));
}

Norm::Norm(const std::string& kind, int64_t features, bool has_bias, float eps) : rms_(kind == "rmsnorm"), eps_(eps) {
    if (kind != "layernorm" && kind != "rmsnorm")
        throw std::invalid_argument("Norm: kind must be \"layernorm\" or \"rmsnorm\", got \"" + kind + "\"");
    check_positive("Norm", "features", features);
    weight = register_parameter("weight", Tensor::full({features}, 1.0f));
    if (has_bias && !rms_) bias = register_parameter("bias", Tensor::zeros({features}));
}

AddNorm Norm::add_forward(const Tensor& x, const Tensor& y) const {
    if (!rms_) return add_layer_norm(x, y, weight, bias, eps_);
    Tensor sum = add(x, y);
    return {sum, rms_norm(sum, weight, eps_)};
}

Dropout::Dropout(float p) : p_(p) {
    if (!(p >= 0.0f && p < 1.0f))
        throw std::invalid_argument("Dropout: p must be in [0, 1), got " + std::to_string(p));
}

}  // namespace gpt
