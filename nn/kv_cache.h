// Incremental decoding with a key/value cache.
//
// With causal attention, layer l's key and value at position p depend only on tokens 0..p, so once
// computed they stay valid while the window does not move. The cache keeps them, per layer:
//   keys[l], values[l]: [block_size, H_kv·hd] floats; row p holds position p's H_kv heads side by side.
// A new token then costs one row through every layer: its own q, k, v (c_attn on one row), attention of
// its H query heads over the p+1 cached rows (query head h reads kv head h / (H/H_kv)), c_proj and the
// MLP: O(n_layer·(12·C² + p·C)) per token instead of a full forward's O(n_layer·T·(12·C² + T·C)).
//
// The cache only holds memory: the forward is the model's own (GPT::hidden with a ForwardProbe whose
// cache is this), and the attention op itself appends each layer's new rows and attends over them.
//
// Size: 2 (k and v) · n_layer · H_kv · hd · 4 bytes per position, so grouped-query (H_kv < H) and
// multi-query (H_kv = 1) attention shrink it by H/H_kv.
//
// Multi-head latent attention (attention = "mla") caches one row per position and layer instead:
//   latent[l]: [block_size, d_c + d_R] = [c_KV; k_R], which is both the key and the value of the
// absorbed form (nn/latent_attention.h): n_layer · (d_c + d_R) · 4 bytes per position. keys(l, p) and
// values(l, p) then point at the same row.
//
// With rope, positions enter through rotations applied before caching, so a row's position is fixed too.
//
// The window: positions are absolute (learned or sinusoidal), so a cached row cannot be shifted to an
// earlier position. When the context fills block_size, the caller resets the cache and re-feeds the last
// block_size tokens in one forward_tokens pass (forward_context below does this); the logits are then
// exactly those of a full forward over the cropped context, as nanoGPT's generate computes them. Past
// block_size every token therefore costs one full-window pass, as it does without a cache.
//
// Everything here runs under NoGradGuard: no tape, no saved activations. The model must be in eval mode
// (dropout off).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "nn/gpt.h"

namespace gpt {

class KVCache {
public:
    explicit KVCache(const GPTConfig& config);  // block_size rows per layer for k and for v (mla: one latent row)

    int64_t length() const { return static_cast<int64_t>(tokens_.size()); }  // positions filled
    int64_t capacity() const { return block_size_; }                          // block_size
    bool full() const { return length() == block_size_; }
    void reset() { tokens_.clear(); }
    // The token ids at positions 0..length−1, so a caller can tell whether the cache still matches.
    const std::vector<int32_t>& tokens() const { return tokens_; }

    int64_t n_layer() const { return n_layer_; }
    bool latent() const { return latent_; }
    // Floats per position and layer: H_kv·hd for keys and as many for values, or (mla) d_c + d_R for
    // the latent row and none besides.
    int64_t key_row() const { return key_row_; }
    int64_t value_row() const { return latent_ ? 0 : key_row_; }
    // What the constructor allocated, per position: (key_row + value_row)·n_layer·sizeof(float);
    // 2·n_layer·H_kv·hd·4 for mha, n_layer·(d_c + d_R)·4 for mla.
    int64_t bytes_per_token() const;
    int64_t bytes() const { return bytes_per_token() * block_size_; }

    // Row `position` of layer `layer`: key_row floats (mla: the same latent row for both).
    float* keys(int64_t layer, int64_t position);
    float* values(int64_t layer, int64_t position);

    // For GPT::hidden: throws std::invalid_argument unless T more tokens of `model` fit (same shape,
    // eval mode, at most block_size positions); layer l's buffers for the attention op; and, after the
    // forward, the ids whose rows were appended.
    void check_fits(const GPT& model, int64_t T) const;
    AttentionInference layer(int64_t l);
    void append(const std::vector<int32_t>& ids) { tokens_.insert(tokens_.end(), ids.begin(), ids.end()); }

private:
    GPTConfig config_;  // the shape it was made for
    int64_t n_layer_, block_size_, key_row_;
    bool latent_;
    std::vector<int32_t> tokens_;
    std::vector<std::vector<float>> keys_, values_;  // [n_layer][block_size·key_row]; values_ empty for mla
};

// Feeds `ids` at positions length()..length()+T−1 in one pass (the prompt, or a window being re-fed),
// appends their keys and values to the cache and returns the logits [V] of the last of them.
// Throws std::invalid_argument when ids is empty, when the cache would pass block_size, when the cache
// was made for another shape or when the model is in train mode.
Tensor forward_tokens(const GPT& model, KVCache& cache, const std::vector<int32_t>& ids);

// One new token: forward_tokens(model, cache, {token}).
Tensor forward_step(const GPT& model, KVCache& cache, int32_t token);

// Logits [V] for the token after `context` (every token so far), with the window of nanoGPT's generate:
// the model sees the last min(n, block_size) tokens. When the cache holds a prefix of that window only
// the rest is fed (one token per call while generating); otherwise (first call, or the window slid) the
// cache is reset and the whole window is re-fed.
Tensor forward_context(const GPT& model, KVCache& cache, std::span<const int32_t> context);

}  // namespace gpt
