#include "data/batch_sampler.h"
#include "evaluate/evaluate.h"

namespace gpt {

double estimate_loss(GPT& model, TokenSpan tokens, int64_t B, int64_t T, int64_t iters, uint64_t seed,
                     const MaskedLmTokens* masked_lm) {
    EvalModeGuard eval_mode(model);
    NoGradGuard no_grad;
    BatchSampler sampler(tokens, B, T, seed);
    Batch batch;
    double total = 0.0;
    for (int64_t i = 0; i < iters; ++i) {
        batch = sampler.next_batch();
        if (masked_lm) {
            Generator masking = masking_generator(sampler.state());
            make_masked_lm_batch(batch.inputs, batch.targets, B, T, *masked_lm, masking);
        }
        total += GPT::loss(model.forward(batch.inputs, B, T), batch.targets).item();
    }
    return total / static_cast<double>(iters);
}

}  // namespace gpt
