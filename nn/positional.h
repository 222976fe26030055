// Position information added to the token embedding (learned: as it is, as GPT-2; sinusoidal: to the
// token embedding times √C, as the original Transformer — GPT::token_scale).
//   learned:    wpe.weight [block_size, C], trained (GPT-2).
//   sinusoidal: fixed, no parameters (Vaswani et al. 2017):
//               PE(p, 2i) = sin(p / 10000^(2i/C)),  PE(p, 2i+1) = cos(p / 10000^(2i/C)).
#pragma once

#include "nn/layers.h"

namespace gpt {

class PositionalEncoding : public Module {
public:
    // Positions start, start+1, …, start+T−1 → [T, C].
    virtual Tensor forward(int64_t T, int64_t start = 0) const = 0;
};

class LearnedPositionalEmbedding : public PositionalEncoding {
public:
    LearnedPositionalEmbedding(int64_t block_size, int64_t n_embd);
    Tensor forward(int64_t T, int64_t start = 0) const override;

    Tensor weight;

private:
    int64_t block_size_;
};

class SinusoidalPositionalEncoding : public PositionalEncoding {
public:
    SinusoidalPositionalEncoding(int64_t block_size, int64_t n_embd);
    Tensor forward(int64_t T, int64_t start = 0) const override;

private:
    Tensor table_;  // [block_size, C], a constant: not registered, not saved
};

}  // namespace gpt
