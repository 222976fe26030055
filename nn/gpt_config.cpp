#include "nn/gpt_config.h"

#include <cstdint>
#include <stdexcept>

namespace gpt {

static void require(bool ok, const std::string& message) {
    if (!ok) throw std::invalid_argument(message);
}

void GPTConfig::validate_attention() const {
    require(attention == "mha" || attention == "mla",
            "attention must be \"mha\" or \"mla\", got \"" + attention + "\"");
    auto not_negative = [](const char* name, int64_t value) {
        require(value >= 0, std::string(name) + " must be positive (or 0), got " + std::to_string(value));
    };
    not_negative("kv_latent_dim", kv_latent_dim);
    not_negative("q_latent_dim", q_latent_dim);
    not_negative("rope_head_dim", rope_head_dim);
    if (!mla()) {
        require(kv_latent_dim == 0 && q_latent_dim == 0 && rope_head_dim == 0,
                "kv_latent_dim, q_latent_dim and rope_head_dim are for attention = \"mla\" only");
        return;
    }
    require(kv_latent_dim > 0, "attention \"mla\" needs kv_latent_dim (the cached latent d_c) > 0");
    require(n_kv_head == 0 || n_kv_head == n_head,
            "attention \"mla\" has no key/value heads to share: leave n_kv_head at 0, got " + std::to_string(n_kv_head));
    require(kv_latent_dim <= (int64_t{1} << 20) && q_latent_dim <= (int64_t{1} << 20) && rope_head_dim <= (int64_t{1} << 20),
            "kv_latent_dim, q_latent_dim and rope_head_dim must be at most 1048576");
    require(mla_rope_dim() % 2 == 0, "rope_head_dim (d_R = " + std::to_string(mla_rope_dim()) +
                                         ") must be even; with 0 it is head_dim / 2");
    require(rope_head_dim == 0 || rope(), "rope_head_dim needs pos_encoding = \"rope\"");
}

void GPTConfig::validate() const {
    auto positive = [](const char* name, int64_t value) {
        require(value > 0, std::string(name) + " must be positive, got " + std::to_string(value));
    };
    require(kind == "gpt" || kind == "bert", "model must be \"gpt\" or \"bert\", got \"" + kind + "\"");
    positive("vocab_size", vocab_size);
    positive("block_size", block_size);
    // A bert window is [CLS] + at least one token + [SEP] (data/masked_lm.h).
    require(!bidirectional() || block_size >= 3, "model \"bert\" needs block_size >= 3 ([CLS] + a token + [SEP]), got " +
                                                     std::to_string(block_size));
    positive("n_layer", n_layer);
    positive("n_head", n_head);
    positive("n_embd", n_embd);
    require(n_kv_head >= 0, "n_kv_head must be positive (or 0 for n_head), got " + std::to_string(n_kv_head));
    require(n_embd % n_head == 0, "n_embd (" + std::to_string(n_embd) + ") must be divisible by n_head (" +
                                      std::to_string(n_head) + ")");
    require(n_head % kv_heads() == 0, "n_head (" + std::to_string(n_head) + ") must be divisible by n_kv_head (" +
                                          std::to_string(kv_heads()) + ")");
    require(pos_encoding == "learned" || pos_encoding == "sinusoidal" || pos_encoding == "rope",
            "pos_encoding must be \"learned\", \"sinusoidal\" or \"rope\", got \"" + pos_encoding + "\"");
    require(!rope() || mla() || head_dim() % 2 == 0,
            "pos_encoding \"rope\" needs an even head_dim (n_embd / n_head), got " + std::to_string(head_dim()));
    validate_attention();
    require(!bidirectional() || !mla(), "model \"bert\" needs attention = \"mha\" (latent attention is causal only)");
    require(dropout >= 0.0 && static_cast<float>(dropout) < 1.0f, "dropout must be in [0, 1), got " + std::to_string(dropout));
    // Upper bounds far beyond any CPU-trainable model, so that every size computed from them (the
    // parameter count ~12·n_layer·n_embd² + vocab_size·n_embd, activation counts) fits in int64 and a
    // forged or mistyped value is refused by name instead of overflowing into a small wrong number.
    auto at_most = [](const char* name, int64_t value, int64_t limit) {
        require(value <= limit, std::string(name) + " " + std::to_string(value) + " is larger than " +
                                    std::to_string(limit) + ", the most this program supports");
    };
    at_most("vocab_size", vocab_size, INT32_MAX);
    at_most("block_size", block_size, int64_t{1} << 24);
    at_most("n_layer", n_layer, int64_t{1} << 16);
    at_most("n_embd", n_embd, int64_t{1} << 20);
    at_most("n_head", n_head, n_embd);
    require(norm == "layernorm" || norm == "rmsnorm", "norm must be \"layernorm\" or \"rmsnorm\", got \"" + norm + "\"");
    require(mlp == "gelu" || mlp == "relu2" || mlp == "swiglu",
            "mlp must be \"gelu\", \"relu2\" or \"swiglu\", got \"" + mlp + "\"");
    require(mlp_hidden >= 0, "mlp_hidden must be positive (or 0 for the default width), got " + std::to_string(mlp_hidden));
    at_most("mlp_hidden", mlp_hidden, int64_t{1} << 22);
    require(!qk_norm || !mla(), "qk_norm is for attention = \"mha\" (latent attention has no fused q and k heads)");
    require(vocab_used >= 0 && vocab_used <= vocab_size, "vocab_used must be in [0, vocab_size " +
                                                             std::to_string(vocab_size) + "], got " + std::to_string(vocab_used));
}

namespace {

// The attention's projections (nn/attention.h, nn/latent_attention.h), c_proj included.
int64_t attention_parameters(const GPTConfig& c) {
    const int64_t C = c.n_embd, hd = c.head_dim(), bias = c.bias ? 1 : 0;
    auto linear = [bias](int64_t in, int64_t out, bool with_bias = true) { return in * out + (with_bias ? bias * out : 0); };
    const int64_t proj = linear(C, C);
    if (!c.mla()) return linear(C, (c.n_head + 2 * c.kv_heads()) * hd) + proj;
    const int64_t H = c.n_head, d_c = c.kv_latent_dim, d_cq = c.q_latent_dim, d_R = c.mla_rope_dim();
    const int64_t q_in = d_cq > 0 ? d_cq : C;
    const int64_t query = d_cq > 0 ? linear(C, d_cq) + linear(d_cq, H * hd) : linear(C, H * hd);
    const int64_t kv = linear(C, d_c) + 2 * linear(d_c, H * hd, false);
    const int64_t rotary = d_R > 0 ? linear(q_in, H * d_R) + linear(C, d_R) : 0;
    return query + kv + rotary + proj;
}

}  // namespace

int64_t count_parameters(const GPTConfig& c) {
    const int64_t C = c.n_embd, bias = c.bias ? 1 : 0;
    const int64_t layer_norm = C * (1 + (c.rmsnorm() ? 0 : bias));
    const int64_t D = c.mlp_hidden_dim(), fc = c.mlp == "swiglu" ? 2 * D : D;
    const int64_t qk_norm = c.qk_norm ? 2 * c.head_dim() : 0;
    const int64_t per_layer = layer_norm + attention_parameters(c) + qk_norm + layer_norm +
                              (C * fc + bias * fc) + (D * C + bias * C);
    const int64_t positions = c.pos_encoding == "learned" ? c.block_size * C : 0;
    // A tied output head shares wte's weight, so it adds nothing; an untied one is [V, C].
    const int64_t head = c.tie_embeddings ? 0 : c.vocab_size * C;
    return c.vocab_size * C + positions + c.n_layer * per_layer + layer_norm + head;
}

}  // namespace gpt
