#include "nn/init.h"

#include <cmath>
#include <string>

namespace gpt {

static bool ends_with(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Draws in named_parameters() order; `residual_std` for every *c_proj.weight.
static void init_by_name(Module& model, double residual_std, Generator& generator) {
    for (auto& [name, tensor] : model.named_parameters()) {
        float* values = tensor.data();
        // ln_1, ln_2, ln_f (LayerNorm or RMSNorm) and the QK-norm gains q_norm, k_norm: ones (and zero biases).
        const bool is_layer_norm = name.find(".ln_") != std::string::npos || name.rfind("ln_", 0) == 0 ||
                                   name.find("_norm.") != std::string::npos;
        if (is_layer_norm) {
            const float value = ends_with(name, ".weight") ? 1.0f : 0.0f;
            for (int64_t i = 0; i < tensor.numel(); ++i) values[i] = value;
        } else if (ends_with(name, ".bias")) {
            for (int64_t i = 0; i < tensor.numel(); ++i) values[i] = 0.0f;
        } else {
            const double std = ends_with(name, "c_proj.weight") ? residual_std : 0.02;
            for (int64_t i = 0; i < tensor.numel(); ++i) values[i] = static_cast<float>(std * generator.normal());
        }
    }
}

void init_gpt2(GPT& model, Generator& generator) {
    init_by_name(model, 0.02 / std::sqrt(2.0 * static_cast<double>(model.config().n_layer)), generator);
}

void init_encoder_decoder(EncoderDecoder& model, Generator& generator) {
    const EncoderDecoderConfig& c = model.config();
    init_by_name(model, 0.02 / std::sqrt(2.0 * static_cast<double>(c.n_encoder_layer + c.n_decoder_layer)), generator);
}

}  // namespace gpt
