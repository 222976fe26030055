// Random training batches: B windows of T + 1 consecutive tokens, each start drawn uniformly from
// [0, N - T - 1], split into inputs (the first T) and next-token targets (the last T):
//
//   inputs[b, t]  = tokens[start_b + t]
//   targets[b, t] = tokens[start_b + t + 1]        b < B, t < T, both stored row-major [B, T]
//
// The sampler owns its own gpt::Generator, so its state (the generator's four words plus the number
// of batches drawn) is all a checkpoint needs to make a resumed run draw the same batches.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "common/random.h"
#include "data/token_span.h"

namespace gpt {

struct SamplerState {
    std::array<uint64_t, 4> rng{};
    int64_t batches_drawn = 0;
};

struct Batch {
    std::vector<int32_t> inputs;   // [B * T]
    std::vector<int32_t> targets;  // [B * T]
};

class BatchSampler {
public:
    // tokens must outlive the sampler. Throws std::invalid_argument if B or T < 1 or N < T + 1.
    BatchSampler(TokenSpan tokens, int64_t B, int64_t T, uint64_t seed);

    void next_batch(std::span<int32_t> inputs, std::span<int32_t> targets);
    Batch next_batch();
    // Draws the next batch's B starts and copies nothing: the state moves exactly as next_batch moves
    // it. Data-parallel ranks skip the micro-batches that other ranks compute (train/train_step.h).
    void skip_batch();

    SamplerState state() const { return {rng_.state(), batches_drawn_}; }
    void set_state(const SamplerState& state);

    int64_t batch_size() const { return B_; }
    int64_t block_size() const { return T_; }
    int64_t batches_drawn() const { return batches_drawn_; }

private:
    TokenSpan tokens_;
    int64_t B_, T_;
    Generator rng_;
    int64_t batches_drawn_ = 0;
};

}  // namespace gpt
