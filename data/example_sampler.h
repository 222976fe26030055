// Random training batches of whole examples (a parallel corpus, data/parallel_corpus.h): B example
// indices, each drawn uniformly from [0, N) with replacement, as BatchSampler draws window starts.
// The sampler owns its generator, so its state (SamplerState: four words + batches drawn) is all a
// checkpoint needs for a resumed run to draw the same batches.
#pragma once

#include <cstdint>
#include <vector>

#include "common/random.h"
#include "data/batch_sampler.h"

namespace gpt {

class ExampleSampler {
public:
    // Throws std::invalid_argument if B < 1 or there is no example.
    ExampleSampler(int64_t examples, int64_t B, uint64_t seed);

    std::vector<size_t> next_batch();  // B indices in [0, examples)
    void skip_batch() { (void)next_batch(); }  // the state moves exactly as next_batch moves it

    SamplerState state() const { return {rng_.state(), batches_drawn_}; }
    void set_state(const SamplerState& state);
    int64_t batch_size() const { return B_; }

private:
    int64_t examples_, B_;
    Generator rng_;
    int64_t batches_drawn_ = 0;
};

}  // namespace gpt
