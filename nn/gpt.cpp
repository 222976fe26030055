#include "nn/gpt.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "nn/kv_cache.h"

namespace gpt {

// A container whose only job is to give the blocks the dotted names h.0, h.1, … .
class BlockList : public Module {
public:
    void append(std::shared_ptr<Block> block) { register_module(std::to_string(count_++), std::move(block)); }

private:
    int count_ = 0;
};

GPT::GPT(const GPTConfig& config) : config_(config) {
    config_.validate();
    config_.n_kv_head = config_.kv_heads();
    wte = register_module("wte", std::make_shared<Embedding>(config_.vocab_size, config_.n_embd));
    if (config_.pos_encoding == "learned")
        wpe = register_module("wpe", std::make_shared<LearnedPositionalEmbedding>(config_.block_size, config_.n_embd));
    else if (config_.pos_encoding == "sinusoidal")
        wpe = std::make_shared<SinusoidalPositionalEncoding>(config_.block_size, config_.n_embd);
    // rope: no wpe; the attention layers rotate q and k.
    drop_ = register_module("drop", std::make_shared<Dropout>(config_.dropout));
    auto blocks = register_module("h", std::make_shared<BlockList>());
    for (int64_t i = 0; i < config_.n_layer; ++i) {
        h.push_back(std::make_shared<Block>(config_));
        blocks->append(h.back());
    }
    ln_f = register_module("ln_f", std::make_shared<Norm>(config_.norm, config_.n_embd, config_.bias));
    if (!config_.tie_embeddings)
        lm_head = register_module("lm_head", std::make_shared<Linear>(config_.n_embd, config_.vocab_size, false));
    if (config_.tokens() < config_.vocab_size) {
        padding_mask_ = Tensor::zeros({config_.vocab_size});
        for (int64_t v = config_.tokens(); v < config_.vocab_size; ++v) padding_mask_.data()[v] = -1e30f;
    }
}

const char* weight_format_name(WeightFormat format) { return format == WeightFormat::bf16 ? "bf16" : "float32"; }

WeightFormat parse_weight_format(const std::string& name, const std::string& option) {
    if (name == "float32") return WeightFormat::float32;
    if (name == "bf16") return WeightFormat::bf16;
    throw std::invalid_argument(option + " must be float32 or bf16, got '" + name + "'");
}

void GPT::set_inference_weights(WeightFormat format) {
    const bool bf16 = format == WeightFormat::bf16;
    apply([bf16](Module& m) {
        if (auto* linear = dynamic_cast<Linear*>(&m)) linear->keep_bf16_copy(bf16);
    });
    head_bf16_ = bf16 && !lm_head ? Bf16Matrix::round(wte->weight) : Bf16Matrix{};
    inference_weights_ = format;
}

Tensor GPT::embed(const std::vector<int32_t>& ids, int64_t B, int64_t T, Generator& generator, int64_t start) const {
    check(static_cast<int64_t>(ids.size()) == B * T, "GPT", "got " + std::to_string(ids.size()) +
                                                              " token ids for B=" + std::to_string(B) +
                                                              ", T=" + std::to_string(T));
    check(start + T <= config_.block_size, "GPT",
          "sequence of " + std::to_string(start + T) + " tokens exceeds block_size " + std::to_string(config_.block_size));
    const Tensor tokens = wte->forward(ids, {B, T});  // [B, T, C]
    if (!wpe) return drop_->forward(tokens, generator);  // rope: positions enter in attention
    const Tensor positions = wpe->forward(T, start);  // [T, C], broadcast over B
    const float scale = token_scale();
    return drop_->forward(add(scale == 1.0f ? tokens : mul_scalar(tokens, scale), positions), generator);
}

float GPT::token_scale() const {
    return config_.pos_encoding == "sinusoidal" ? static_cast<float>(std::sqrt(static_cast<double>(config_.n_embd))) : 1.0f;
}

Tensor GPT::logits_from_hidden(const Tensor& hidden) const { return logits_from_normed(ln_f->forward(hidden)); }

Tensor GPT::logits_from_normed(const Tensor& normed) const {
    // [.., C]·[V, C]ᵀ → [.., V]. Padded ids: -1e30 (finite, so p·log p stays 0) takes every bit of
    // probability away from them. The mask is the product's bias, added as the product stores its first
    // K block (no [.., V] tensor and no pass of its own: 51 MB and ~5 % of a GPT-2 124M step at batch
    // 4 × 64 as a separate add); 0 for the real tokens, whose logits keep their values.
    // Generation with bf16 weights (set_inference_weights) reads the untied Linear's copy or head_bf16_.
    if (!grad_enabled()) {
        if (lm_head && lm_head->has_bf16_copy()) return linear_bf16(normed, lm_head->bf16_weight(), padding_mask_);
        if (!head_bf16_.empty()) return linear_bf16(normed, head_bf16_, padding_mask_);
    }
    return linear(normed, head_weight(), padding_mask_);
}

AddNorm GPT::run_blocks(const std::vector<int32_t>& ids, int64_t B, int64_t T, Generator& generator,
                        ForwardProbe* probe, const Norm* last) const {
    KVCache* cache = probe ? probe->cache : nullptr;
    check(!cache || !config_.bidirectional(), "GPT",
          "a bert model has no key/value cache and does not generate text: use gpt fill");
    if (cache) cache->check_fits(*this, T);
    if (probe) probe->attention.clear();
    const bool record = probe && probe->record_activations;
    if (record) probe->activations.assign(h.size(), BlockActivations{});
    const Tensor x = embed(ids, B, T, generator, cache ? cache->length() : 0);
    if (record) probe->embedding = x;
    // Each block's last residual add is fused with the norm that reads it: the next block's ln_1, or `last`.
    AddNorm state{x, h[0]->ln_1->forward(x)};  // n_layer ≥ 1 (GPTConfig::validate)
    for (size_t l = 0; l < h.size(); ++l) {
        const Norm* next = l + 1 < h.size() ? h[l + 1]->ln_1.get() : last;
        if (!probe) {
            state = h[l]->forward(state.sum, state.normed, next, generator);
            continue;
        }
        AttentionInference layer = cache ? cache->layer(static_cast<int64_t>(l)) : AttentionInference{};
        layer.want_probs = probe->record_attention;
        state = h[l]->forward(state.sum, state.normed, next, generator, &layer,
                              record ? &probe->activations[l] : nullptr);
        if (layer.want_probs) probe->attention.push_back(layer.probs);
    }
    if (cache) cache->append(ids);
    return state;
}

Tensor GPT::hidden(const std::vector<int32_t>& ids, int64_t B, int64_t T, Generator& generator,
                   ForwardProbe* probe) const {
    return run_blocks(ids, B, T, generator, probe, nullptr).sum;
}

Tensor GPT::forward(const std::vector<int32_t>& ids, int64_t B, int64_t T, Generator& generator,
                    ForwardProbe* probe) const {
    return logits_from_normed(run_blocks(ids, B, T, generator, probe, ln_f.get()).normed);
}

void GPT::check_no_dropout() const {
    check(!is_training() || config_.dropout == 0.0, "GPT",
          "a forward without a random generator has no dropout, but the model is in train mode with dropout " +
              std::to_string(config_.dropout) + ": pass the generator, or call eval()");
}

Tensor GPT::hidden(const std::vector<int32_t>& ids, int64_t B, int64_t T, ForwardProbe* probe) const {
    check_no_dropout();
    Generator no_dropout(0);  // never drawn from: dropout is the identity in eval mode or at p = 0
    return hidden(ids, B, T, no_dropout, probe);
}

Tensor GPT::forward(const std::vector<int32_t>& ids, int64_t B, int64_t T, ForwardProbe* probe) const {
    check_no_dropout();
    Generator no_dropout(0);
    return forward(ids, B, T, no_dropout, probe);
}

Tensor GPT::last_logits(const Tensor& hidden) const {
    check(hidden.dim() == 3 && hidden.size(0) == 1, "GPT", "last_logits expects hidden [1, T, C], got " +
                                                                 shape_str(hidden.shape()));
    const int64_t T = hidden.size(1), C = config_.n_embd;
    Tensor last = Tensor::empty({1, C});
    std::copy_n(hidden.data() + (T - 1) * C, C, last.data());
    return logits_from_hidden(last).view({config_.vocab_size});
}

Tensor GPT::loss(const Tensor& logits, const std::vector<int32_t>& targets) { return cross_entropy(logits, targets); }

}  // namespace gpt
