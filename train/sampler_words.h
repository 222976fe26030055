// The batch sampler's state as the flat uint64 words the checkpoint stores: rng[0..3], batches_drawn.
#pragma once

#include <stdexcept>
#include <vector>

#include "data/batch_sampler.h"

namespace gpt {

inline std::vector<uint64_t> sampler_state_to_words(const SamplerState& state) {
    std::vector<uint64_t> words(state.rng.begin(), state.rng.end());
    words.push_back(static_cast<uint64_t>(state.batches_drawn));
    return words;
}

inline SamplerState sampler_state_from_words(const std::vector<uint64_t>& words) {
    if (words.size() != 5)
        throw std::runtime_error("checkpoint: /train/sampler_state has " + std::to_string(words.size()) +
                                 " words, expected 5");
    SamplerState state;
    for (size_t i = 0; i < 4; ++i) state.rng[i] = words[i];
    state.batches_drawn = static_cast<int64_t>(words[4]);
    return state;
}

}  // namespace gpt
