// The model's shape: the /config attributes of a checkpoint.
#pragma once

#include <cstdint>
#include <string>

namespace gpt {

struct GPTConfig {
    // The model family (the checkpoint's /config attribute `model`; absent = "gpt"):
    //   "gpt":  causal attention (query i sees keys 0..i), trained on next-token prediction;
    //   "bert": the same modules with bidirectional attention (every query sees every key), trained on the
    //           masked-LM objective (data/masked_lm.h). No KV cache, no generation: `gpt fill` uses it.
    std::string kind = "gpt";
    int64_t vocab_size = 65;
    int64_t block_size = 64;  // the longest context T
    int64_t n_layer = 4;
    int64_t n_head = 4;
    int64_t n_kv_head = 0;  // 0 means "same as n_head" (classic multi-head attention)
    int64_t n_embd = 128;   // C
    // "learned" (GPT-2) | "sinusoidal" (Vaswani et al.) | "rope" (rotary, on q and k; no wpe)
    std::string pos_encoding = "learned";
    // "mha": q, k, v from one fused projection (multi-head, grouped-query or multi-query by n_kv_head).
    // "mla": DeepSeek-V2's multi-head latent attention (nn/latent_attention.h); n_kv_head must be 0.
    std::string attention = "mha";
    int64_t kv_latent_dim = 0;  // mla: d_c, the cached latent per token and layer (required)
    int64_t q_latent_dim = 0;   // mla: d_c', the query's latent; 0 = queries straight from the input
    int64_t rope_head_dim = 0;  // mla + rope: d_R of the decoupled rotary key/query; 0 = head_dim / 2
    double dropout = 0.0;  // as given (TrainConfig's value, written to config.toml); layers use it as float
    bool bias = true;
    // Vocabulary padding: 0 = none. Otherwise only ids < vocab_used are tokens; the rows vocab_used..
    // vocab_size-1 of wte exist for a matmul-friendly V (e.g. GPT-2's 50257 -> 50304) and their logits
    // are masked to -1e30, so they carry no probability: no loss, no gradient, never sampled.
    int64_t vocab_used = 0;
    // The "modern recipe" options (issue 31). Each default is GPT-2's, and a checkpoint without the
    // attribute means the default.
    std::string norm = "layernorm";  // ln_1, ln_2, ln_f: "layernorm" | "rmsnorm" (weight only, no bias)
    std::string mlp = "gelu";        // "gelu" (tanh) | "relu2" (squared ReLU) | "swiglu" (c_fc → 2·hidden)
    int64_t mlp_hidden = 0;          // the MLP's hidden width; 0 = 4·C, or for swiglu 8/3·C rounded up to 64
    bool qk_norm = false;            // mha: RMSNorm of each q and k head (gains q_norm, k_norm [hd]) before rope
    bool tie_embeddings = true;      // false: an output head lm_head.weight [V, C] of its own

    // The one place the "0 means n_head" rule is written.
    int64_t kv_heads() const { return n_kv_head > 0 ? n_kv_head : n_head; }
    int64_t head_dim() const { return n_embd / n_head; }
    bool mla() const { return attention == "mla"; }
    bool bidirectional() const { return kind == "bert"; }
    bool rope() const { return pos_encoding == "rope"; }
    // d_R: the rotary part of an MLA head; 0 without rope (MLA then takes positions from wpe).
    int64_t mla_rope_dim() const { return !rope() ? 0 : rope_head_dim > 0 ? rope_head_dim : head_dim() / 2; }
    bool rmsnorm() const { return norm == "rmsnorm"; }
    // The MLP's hidden width D (c_fc produces D, or 2·D for swiglu: gate and value).
    int64_t mlp_hidden_dim() const {
        if (mlp_hidden > 0) return mlp_hidden;
        if (mlp != "swiglu") return 4 * n_embd;
        return (8 * n_embd / 3 + 63) / 64 * 64;
    }
    int64_t tokens() const { return vocab_used > 0 ? vocab_used : vocab_size; }  // ids that are real tokens
    // Throws std::invalid_argument naming the first bad field, e.g. "n_embd (100) must be divisible by n_head (3)".
    void validate() const;

private:
    void validate_attention() const;  // attention, kv_latent_dim, q_latent_dim, rope_head_dim
};

// The number of parameters GPT(config) would have, without building it (weights are float32, so
// 4 bytes each: the memory check and the checkpoint's file-size check use it).
int64_t count_parameters(const GPTConfig& config);

}  // namespace gpt
