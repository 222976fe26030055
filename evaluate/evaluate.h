// Validation loss: dropout off, no tape.
#pragma once

#include <cstdint>

#include "data/token_span.h"
#include "nn/gpt.h"

namespace gpt {

// Mean next-token cross-entropy over `iters` random batches of B windows of T+1 tokens, drawn by a
// sampler seeded with `seed` (its own stream: evaluating never moves the training batches, and every
// evaluation of a run sees the same batches, so the numbers are comparable step to step).
double estimate_loss(GPT& model, TokenSpan tokens, int64_t B, int64_t T, int64_t iters, uint64_t seed);

// `gpt eval`: consecutive non-overlapping windows of T inputs (targets shifted by one); the last partial
// window is dropped, so windows = ⌊(tokens − 1) / T⌋. loss is the mean over every target in every window.
struct WindowEvaluation {
    double loss = 0.0;
    int64_t tokens = 0;
    int64_t windows = 0;
};
WindowEvaluation evaluate_windows(GPT& model, TokenSpan tokens, int64_t T, int64_t windows_per_batch = 8);

}  // namespace gpt
