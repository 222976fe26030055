// GPT: token embedding + position information → n_layer pre-LN blocks → ln_f → logits through the
// token embedding's transpose (weight tying: lm_head is wte.weight, stored once).
//   ids [B, T] → logits [B, T, V].
#pragma once

#include <memory>
#include <vector>

#include "nn/attention.h"
#include "nn/gpt_config.h"
#include "nn/positional.h"

namespace gpt {

class GPT : public Module {
public:
    explicit GPT(const GPTConfig& config);  // validates the config; weights are zero until init_gpt2()

    Tensor forward(const std::vector<int32_t>& ids, int64_t B, int64_t T, Generator& generator) const;
    // Mean next-token cross-entropy of logits [B, T, V] against targets [B·T].
    static Tensor loss(const Tensor& logits, const std::vector<int32_t>& targets);

    // The hidden states before ln_f / the projection, exposed for generation and the report.
    Tensor embed(const std::vector<int32_t>& ids, int64_t B, int64_t T, Generator& generator, int64_t start = 0) const;
    Tensor logits_from_hidden(const Tensor& hidden) const;  // ln_f, then · wteᵀ

    const GPTConfig& config() const { return config_; }

    std::shared_ptr<Embedding> wte;
    std::shared_ptr<PositionalEncoding> wpe;  // Learned… registers wpe.weight; Sinusoidal… has no parameters
    std::vector<std::shared_ptr<Block>> h;
    std::shared_ptr<LayerNorm> ln_f;

private:
    GPTConfig config_;
    std::shared_ptr<Dropout> drop_;
};

}  // namespace gpt
