#include "nn/kv_cache.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace gpt {

namespace {

int64_t key_row_of(const GPTConfig& c) { return c.mla() ? c.kv_latent_dim + c.mla_rope_dim() : c.kv_heads() * c.head_dim(); }

}  // namespace

KVCache::KVCache(const GPTConfig& config)
    : config_(config),
      n_layer_(config.n_layer),
      block_size_(config.block_size),
      key_row_(key_row_of(config)),
      latent_(config.mla()) {
    config.validate();
    const size_t floats = static_cast<size_t>(block_size_ * key_row_);
    keys_.assign(static_cast<size_t>(n_layer_), std::vector<float>(floats));
    if (!latent_) values_.assign(static_cast<size_t>(n_layer_), std::vector<float>(floats));
}

int64_t KVCache::bytes_per_token() const {  // measured from the buffers, not from the formula
    int64_t floats = 0;
    for (const auto& layer : keys_) floats += static_cast<int64_t>(layer.size());
    for (const auto& layer : values_) floats += static_cast<int64_t>(layer.size());
    return floats / block_size_ * static_cast<int64_t>(sizeof(float));
}

float* KVCache::keys(int64_t layer, int64_t position) {
    return keys_.at(static_cast<size_t>(layer)).data() + position * key_row_;
}

float* KVCache::values(int64_t layer, int64_t position) {
    if (latent_) return keys(layer, position);
    return values_.at(static_cast<size_t>(layer)).data() + position * key_row_;
}

void KVCache::check_fits(const GPT& model, int64_t T) const {
    const GPTConfig& config = model.config();
    check(T > 0, "forward_tokens", "no token ids given");
    check(n_layer_ == config.n_layer && block_size_ == config.block_size && latent_ == config.mla() &&
              key_row_ == key_row_of(config) && config_.n_embd == config.n_embd &&
              config_.n_head == config.n_head && config_.kv_heads() == config.kv_heads(),
          "forward_tokens", "the cache was made for another model shape (n_layer " + std::to_string(n_layer_) +
                                ", block_size " + std::to_string(block_size_) + ", attention " + config_.attention +
                                ", " + std::to_string(key_row_) + " floats per key row)");
    check(length() + T <= config.block_size, "forward_tokens",
          std::to_string(length()) + " cached + " + std::to_string(T) + " new tokens exceed block_size " +
              std::to_string(config.block_size) + "; reset the cache and re-feed the last block_size tokens");
    check(!model.is_training(), "forward_tokens", "the model is in train mode; call model.eval() before generating");
}

AttentionInference KVCache::layer(int64_t l) {
    AttentionInference state;
    state.keys = keys(l, 0);
    state.values = values(l, 0);
    state.cached = length();
    state.capacity = block_size_;
    return state;
}

Tensor forward_tokens(const GPT& model, KVCache& cache, const std::vector<int32_t>& ids) {
    const int64_t T = static_cast<int64_t>(ids.size());
    NoGradGuard no_grad;  // GPT::hidden checks that the T tokens fit the cache (KVCache::check_fits)
    ForwardProbe probe;
    probe.cache = &cache;
    return model.last_logits(model.hidden(ids, 1, T, &probe));  // hidden [1, T, C] → [V]
}

Tensor forward_step(const GPT& model, KVCache& cache, int32_t token) { return forward_tokens(model, cache, {token}); }

Tensor forward_context(const GPT& model, KVCache& cache, std::span<const int32_t> context) {
    check(!context.empty(), "forward_context", "empty context: give at least one token");
    const size_t window = std::min(context.size(), static_cast<size_t>(model.config().block_size));
    const std::span<const int32_t> tokens = context.last(window);
    const std::vector<int32_t>& cached = cache.tokens();
    const bool prefix = cached.size() < window && std::equal(cached.begin(), cached.end(), tokens.begin());
    if (!prefix) cache.reset();
    const std::span<const int32_t> fresh = tokens.subspan(cache.tokens().size());
    return forward_tokens(model, cache, std::vector<int32_t>(fresh.begin(), fresh.end()));
}

}  // namespace gpt
