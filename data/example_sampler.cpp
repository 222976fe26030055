#include "data/example_sampler.h"

#include <stdexcept>
#include <string>

namespace gpt {

ExampleSampler::ExampleSampler(int64_t examples, int64_t B, uint64_t seed) : examples_(examples), B_(B), rng_(seed) {
    if (B < 1) throw std::invalid_argument("ExampleSampler: B must be >= 1, got " + std::to_string(B));
    if (examples < 1) throw std::invalid_argument("ExampleSampler: no example to draw from");
}

std::vector<size_t> ExampleSampler::next_batch() {
    std::vector<size_t> indices(static_cast<size_t>(B_));
    for (size_t& i : indices) i = static_cast<size_t>(rng_.below(static_cast<uint64_t>(examples_)));
    ++batches_drawn_;
    return indices;
}

void ExampleSampler::set_state(const SamplerState& state) {
    if (state.rng == Generator::State{})
        throw std::invalid_argument("ExampleSampler::set_state: the generator state is all zero (never valid for xoshiro)");
    if (state.batches_drawn < 0)
        throw std::invalid_argument("ExampleSampler::set_state: batches_drawn is negative: " +
                                    std::to_string(state.batches_drawn));
    rng_.set_state(state.rng);
    batches_drawn_ = state.batches_drawn;
}

}  // namespace gpt
