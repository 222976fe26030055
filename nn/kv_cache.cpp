#include "nn/kv_cache.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace gpt {

KVCache::KVCache(const GPTConfig& config)
    : n_layer_(config.n_layer),
      block_size_(config.block_size),
      n_kv_head_(config.kv_heads()),
      head_dim_(config.head_dim()) {
    config.validate();
    const size_t floats = static_cast<size_t>(block_size_ * n_kv_head_ * head_dim_);
    keys_.assign(static_cast<size_t>(n_layer_), std::vector<float>(floats));
    values_.assign(static_cast<size_t>(n_layer_), std::vector<float>(floats));
}

int64_t KVCache::bytes_per_token() const {
    return 2 * n_layer_ * n_kv_head_ * head_dim_ * static_cast<int64_t>(sizeof(float));
}

float* KVCache::keys(int64_t layer, int64_t position) {
    return keys_.at(static_cast<size_t>(layer)).data() + position * n_kv_head_ * head_dim_;
}

float* KVCache::values(int64_t layer, int64_t position) {
    return values_.at(static_cast<size_t>(layer)).data() + position * n_kv_head_ * head_dim_;
}

namespace {

float dot(const float* a, const float* b, int64_t n) {
    float acc = 0.0f;
#pragma omp simd reduction(+ : acc)
    for (int64_t d = 0; d < n; ++d) acc += a[d] * b[d];
    return acc;
}

// Attention of T new queries over the cache. qkv [T, (H + 2·H_kv)·hd] (c_attn's output for the new
// rows, whose k and v are already in the cache); new row i sits at position start + i and sees cached
// positions 0..start+i. keys/values [start+T, H_kv·hd]. out [T, H·hd]. Same arithmetic, in the same
// order, as the fused causal_self_attention forward (autograd/ops/attention.cpp).
void attend_cached(const float* qkv, int64_t T, int64_t start, const float* keys, const float* values, int64_t H,
                   int64_t H_kv, int64_t hd, float* out) {
    const int64_t row = (H + 2 * H_kv) * hd;
    const int64_t kv_row = H_kv * hd;
    const int64_t group = H / H_kv;
    const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
    // A single decoding step (T = 1) is too little work to wake a thread team for.
    const bool parallel = T * H * (start + T) * hd >= (1 << 16);
#pragma omp parallel if (parallel)
    {
        std::vector<float> p(static_cast<size_t>(start + T));
#pragma omp for schedule(static)
        for (int64_t ih = 0; ih < T * H; ++ih) {
            const int64_t i = ih / H, h = ih % H, g = h / group;
            const int64_t last = start + i;  // attends to positions 0..last
            const float* q = qkv + i * row + h * hd;
            float max = -INFINITY;
            for (int64_t j = 0; j <= last; ++j) {
                p[static_cast<size_t>(j)] = dot(q, keys + j * kv_row + g * hd, hd) * scale;
                max = std::max(max, p[static_cast<size_t>(j)]);
            }
            float sum = 0.0f;
            for (int64_t j = 0; j <= last; ++j) {
                p[static_cast<size_t>(j)] = std::exp(p[static_cast<size_t>(j)] - max);
                sum += p[static_cast<size_t>(j)];
            }
            const float inv_sum = 1.0f / sum;
            float* o = out + i * H * hd + h * hd;
            std::fill(o, o + hd, 0.0f);
            for (int64_t j = 0; j <= last; ++j) {
                const float weight = p[static_cast<size_t>(j)] * inv_sum;
                const float* v = values + j * kv_row + g * hd;
#pragma omp simd
                for (int64_t d = 0; d < hd; ++d) o[d] += weight * v[d];
            }
        }
    }
}

}  // namespace

Tensor forward_tokens(const GPT& model, KVCache& cache, const std::vector<int32_t>& ids) {
    const GPTConfig& config = model.config();
    const int64_t T = static_cast<int64_t>(ids.size());
    const int64_t start = cache.length();
    const int64_t C = config.n_embd, H = config.n_head, H_kv = config.kv_heads(), hd = config.head_dim();
    check(T > 0, "forward_tokens", "no token ids given");
    check(cache.n_layer_ == config.n_layer && cache.block_size_ == config.block_size && cache.n_kv_head_ == H_kv &&
              cache.head_dim_ == hd,
          "forward_tokens", "the cache was made for another model shape (n_layer " + std::to_string(cache.n_layer_) +
                                ", block_size " + std::to_string(cache.block_size_) + ", n_kv_head " +
                                std::to_string(cache.n_kv_head_) + ", head_dim " + std::to_string(cache.head_dim_) +
                                ")");
    check(start + T <= config.block_size, "forward_tokens",
          std::to_string(start) + " cached + " + std::to_string(T) + " new tokens exceed block_size " +
              std::to_string(config.block_size) + "; reset the cache and re-feed the last block_size tokens");
    check(!model.is_training(), "forward_tokens", "the model is in train mode; call model.eval() before generating");

    NoGradGuard no_grad;
    Generator unused(0);  // eval mode: dropout is the identity and draws nothing
    Tensor x = model.embed(ids, 1, T, unused, start).view({T, C});  // token + position p = start + i
    const int64_t kv_width = H_kv * hd;
    for (int64_t l = 0; l < config.n_layer; ++l) {
        const Block& block = *model.h[static_cast<size_t>(l)];
        const Tensor qkv = block.attn->c_attn->forward(block.ln_1->forward(x));  // [T, (H + 2·H_kv)·hd]
        const int64_t row = (H + 2 * H_kv) * hd;
        for (int64_t i = 0; i < T; ++i) {
            const float* source = qkv.data() + i * row;
            std::copy_n(source + H * hd, kv_width, cache.keys(l, start + i));
            std::copy_n(source + (H + H_kv) * hd, kv_width, cache.values(l, start + i));
        }
        Tensor y = Tensor::empty({T, H * hd});
        attend_cached(qkv.data(), T, start, cache.keys(l, 0), cache.values(l, 0), H, H_kv, hd, y.data());
        x = add(x, block.attn->c_proj->forward(y));
        x = add(x, block.mlp->forward(block.ln_2->forward(x), unused));
    }
    cache.tokens_.insert(cache.tokens_.end(), ids.begin(), ids.end());

    // Only the last row's logits are needed: ln_f and the [V, C] projection on one row.
    Tensor last = Tensor::empty({1, C});
    std::copy_n(x.data() + (T - 1) * C, C, last.data());
    return model.logits_from_hidden(last).view({config.vocab_size});
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
