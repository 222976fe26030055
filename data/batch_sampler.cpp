#include "data/batch_sampler.h"

#include <stdexcept>
#include <string>

namespace gpt {

BatchSampler::BatchSampler(TokenSpan tokens, int64_t B, int64_t T, uint64_t seed)
    : tokens_(tokens), B_(B), T_(T), rng_(seed) {
    if (B < 1 || T < 1)
        throw std::invalid_argument("BatchSampler: B and T must be >= 1, got B=" + std::to_string(B) +
                                    " T=" + std::to_string(T));
    if (tokens.size() < T + 1)
        throw std::invalid_argument("BatchSampler: " + std::to_string(tokens.size()) +
                                    " tokens are fewer than one window of T + 1 = " + std::to_string(T + 1));
}

void BatchSampler::next_batch(std::span<int32_t> inputs, std::span<int32_t> targets) {
    const size_t BT = static_cast<size_t>(B_ * T_);
    if (inputs.size() != BT || targets.size() != BT)
        throw std::invalid_argument("BatchSampler::next_batch: inputs/targets hold " + std::to_string(inputs.size()) +
                                    "/" + std::to_string(targets.size()) + " ids, need B*T = " + std::to_string(BT));
    // Starts in [0, N - T - 1], so the window start .. start + T (T + 1 tokens) lies inside the data.
    const uint64_t starts = static_cast<uint64_t>(tokens_.size() - T_);
    for (int64_t b = 0; b < B_; ++b) {
        const int64_t start = static_cast<int64_t>(rng_.below(starts));
        tokens_.copy(start, T_, inputs.data() + b * T_);
        tokens_.copy(start + 1, T_, targets.data() + b * T_);
    }
    ++batches_drawn_;
}

void BatchSampler::skip_batch() {
    const uint64_t starts = static_cast<uint64_t>(tokens_.size() - T_);
    for (int64_t b = 0; b < B_; ++b) (void)rng_.below(starts);
    ++batches_drawn_;
}

Batch BatchSampler::next_batch() {
    Batch batch{std::vector<int32_t>(size_t(B_ * T_)), std::vector<int32_t>(size_t(B_ * T_))};
    next_batch(batch.inputs, batch.targets);
    return batch;
}

void BatchSampler::set_state(const SamplerState& state) {
    if (state.rng == Generator::State{})
        throw std::invalid_argument("BatchSampler::set_state: the generator state is all zero (never valid for xoshiro)");
    if (state.batches_drawn < 0)
        throw std::invalid_argument("BatchSampler::set_state: batches_drawn is negative: " +
                                    std::to_string(state.batches_drawn));
    rng_.set_state(state.rng);
    batches_drawn_ = state.batches_drawn;
}

}  // namespace gpt
