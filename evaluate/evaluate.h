// Validation loss: dropout off, no tape.
#pragma once

#include <cstdint>

#include "data/masked_lm.h"
#include "data/token_span.h"
#include "nn/gpt.h"

namespace gpt {

// Mean next-token cross-entropy over `iters` random batches of B windows of T+1 tokens, drawn by a
// sampler seeded with `seed` (its own stream: evaluating never moves the training batches, and every
// evaluation of a run sees the same batches, so the numbers are comparable step to step).
// masked_lm (model = bert): the windows become masked-LM examples as in training (data/masked_lm.h,
// masked by the evaluation sampler's stream), and the loss is the masked tokens' mean cross-entropy.
double estimate_loss(GPT& model, TokenSpan tokens, int64_t B, int64_t T, int64_t iters, uint64_t seed,
                     const MaskedLmTokens* masked_lm = nullptr);

// `gpt eval`: consecutive non-overlapping windows of T inputs (targets shifted by one); the last partial
// window is dropped, so windows = ⌊(tokens − 1) / T⌋. loss is the mean over every target in every window.
struct WindowEvaluation {
    double loss = 0.0;
    int64_t tokens = 0;
    int64_t windows = 0;
};
WindowEvaluation evaluate_windows(GPT& model, TokenSpan tokens, int64_t T, int64_t windows_per_batch = 8);

// Masked-token accuracy (`gpt eval` of a bert checkpoint, or of a GPT with --masked_accuracy). The
// masked positions are those of masked_in_evaluation(seed, i) (data/masked_lm.h) among the text's
// tokens i >= 1 that are not special tokens: the same positions for every model evaluated on the same
// text (up to where each model's last whole window ends).
//   bert (model.config().bidirectional(), `tokens` from MaskedLmTokens::of): consecutive windows
//     [CLS] + L = block_size − 2 tokens + [SEP], every masked position replaced by [MASK] (no 80/10/10 at
//     evaluation: the model never sees the answer). It reads context on both sides.
//   gpt (`tokens` from MaskedLmTokens::ordinary_of): evaluate_windows' windows; token i is predicted from
//     the logits at i − 1, i.e. from its left context alone (the text before it is not masked).
// The prediction is the most probable ordinary token (ids < tokens.ordinary); loss is the mean
// cross-entropy over the masked positions (over the whole vocabulary).
inline constexpr uint64_t kMaskedEvaluationSeed = 2019;
struct MaskedEvaluation {
    double loss = 0.0;
    double accuracy = 0.0;
    int64_t masked = 0;   // positions scored
    int64_t correct = 0;  // of them, predicted exactly
    int64_t tokens = 0;
    int64_t windows = 0;
};
MaskedEvaluation evaluate_masked(GPT& model, TokenSpan tokens, const MaskedLmTokens& special,
                                 uint64_t seed = kMaskedEvaluationSeed, int64_t windows_per_batch = 8);

}  // namespace gpt
