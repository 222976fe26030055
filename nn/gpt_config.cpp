#include "nn/gpt_config.h"

#include <stdexcept>

namespace gpt {

static void require(bool ok, const std::string& message) {
    if (!ok) throw std::invalid_argument(message);
}

void GPTConfig::validate() const {
    auto positive = [](const char* name, int64_t value) {
        require(value > 0, std::string(name) + " must be positive, got " + std::to_string(value));
    };
    positive("vocab_size", vocab_size);
    positive("block_size", block_size);
    positive("n_layer", n_layer);
    positive("n_head", n_head);
    positive("n_embd", n_embd);
    require(n_kv_head >= 0, "n_kv_head must be positive (or 0 for n_head), got " + std::to_string(n_kv_head));
    require(n_embd % n_head == 0, "n_embd (" + std::to_string(n_embd) + ") must be divisible by n_head (" +
                                      std::to_string(n_head) + ")");
    require(n_head % kv_heads() == 0, "n_head (" + std::to_string(n_head) + ") must be divisible by n_kv_head (" +
                                          std::to_string(kv_heads()) + ")");
    require(pos_encoding == "learned" || pos_encoding == "sinusoidal",
            "pos_encoding must be \"learned\" or \"sinusoidal\", got \"" + pos_encoding + "\"");
    require(dropout >= 0.0f && dropout < 1.0f, "dropout must be in [0, 1), got " + std::to_string(dropout));
    require(vocab_used >= 0 && vocab_used <= vocab_size, "vocab_used must be in [0, vocab_size " +
                                                             std::to_string(vocab_size) + "], got " + std::to_string(vocab_used));
    require(vocab_size <= INT32_MAX, "vocab_size too large: " + std::to_string(vocab_size));
}

}  // namespace gpt
