// The model's shape: the /config attributes of a checkpoint.
#pragma once

#include <cstdint>
#include <string>

namespace gpt {

struct GPTConfig {
    int64_t vocab_size = 65;
    int64_t block_size = 64;  // the longest context T
    int64_t n_layer = 4;
    int64_t n_head = 4;
    int64_t n_kv_head = 0;  // 0 means "same as n_head" (classic multi-head attention)
    int64_t n_embd = 128;   // C
    std::string pos_encoding = "learned";  // "learned" (GPT-2) | "sinusoidal" (Vaswani et al.)
    double dropout = 0.0;  // as given (TrainConfig's value, written to config.toml); layers use it as float
    bool bias = true;
    // Vocabulary padding: 0 = none. Otherwise only ids < vocab_used are tokens; the rows vocab_used..
    // vocab_size-1 of wte exist for a matmul-friendly V (e.g. GPT-2's 50257 -> 50304) and their logits
    // are masked to -1e30, so they carry no probability: no loss, no gradient, never sampled.
    int64_t vocab_used = 0;

    // The one place the "0 means n_head" rule is written.
    int64_t kv_heads() const { return n_kv_head > 0 ? n_kv_head : n_head; }
    int64_t head_dim() const { return n_embd / n_head; }
    int64_t tokens() const { return vocab_used > 0 ? vocab_used : vocab_size; }  // ids that are real tokens
    // Throws std::invalid_argument naming the first bad field, e.g. "n_embd (100) must be divisible by n_head (3)".
    void validate() const;
};

}  // namespace gpt
