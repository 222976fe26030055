#include <algorithm>
#include <stdexcept>
#include <vector>

#include "evaluate/evaluate.h"

namespace gpt {

namespace {

// One batch of windows: the model's inputs [B·T], and for each row of the logits the text position it
// predicts (−1: none), i.e. the position whose token is that row's target.
struct MaskedBatch {
    std::vector<int32_t> inputs;
    std::vector<int64_t> predicts;
};

bool scored(TokenSpan tokens, const MaskedLmTokens& special, uint64_t seed, int64_t position) {
    return position >= 1 && masked_in_evaluation(seed, position) && !special.is_special(tokens[position]);
}

// bert: window w is [CLS] x_{wL} … x_{wL+L−1} [SEP] with the scored positions replaced by [MASK].
MaskedBatch bert_batch(TokenSpan tokens, const MaskedLmTokens& special, uint64_t seed, int64_t first, int64_t B,
                       int64_t T) {
    const int64_t L = T - 2;
    MaskedBatch batch{std::vector<int32_t>(size_t(B * T)), std::vector<int64_t>(size_t(B * T), -1)};
    for (int64_t b = 0; b < B; ++b) {
        int32_t* in = batch.inputs.data() + b * T;
        const int64_t start = (first + b) * L;
        tokens.copy(start, L, in + 1);
        in[0] = special.cls;
        in[T - 1] = special.sep;
        for (int64_t j = 0; j < L; ++j)
            if (scored(tokens, special, seed, start + j)) {
                in[j + 1] = special.mask;
                batch.predicts[size_t(b * T + j + 1)] = start + j;
            }
    }
    return batch;
}

// gpt: window w holds x_{wT} … x_{wT+T−1}; row t predicts position wT + t + 1 from the tokens up to it.
MaskedBatch gpt_batch(TokenSpan tokens, const MaskedLmTokens& special, uint64_t seed, int64_t first, int64_t B,
                      int64_t T) {
    MaskedBatch batch{std::vector<int32_t>(size_t(B * T)), std::vector<int64_t>(size_t(B * T), -1)};
    for (int64_t b = 0; b < B; ++b) {
        const int64_t start = (first + b) * T;
        tokens.copy(start, T, batch.inputs.data() + b * T);
        for (int64_t t = 0; t < T; ++t)
            if (scored(tokens, special, seed, start + t + 1)) batch.predicts[size_t(b * T + t)] = start + t + 1;
    }
    return batch;
}

// The most probable ordinary token of one row of logits.
int32_t best_ordinary(const float* row, int32_t ordinary) {
    return static_cast<int32_t>(std::max_element(row, row + ordinary) - row);
}

}  // namespace

MaskedEvaluation evaluate_masked(GPT& model, TokenSpan tokens, const MaskedLmTokens& special, uint64_t seed,
                                 int64_t windows_per_batch) {
    const bool bert = model.config().bidirectional();
    if (bert && special.mask < 0) throw std::invalid_argument("eval: a bert model needs its tokenizer's [MASK], [CLS], [SEP]");
    const int64_t T = model.config().block_size, V = model.config().vocab_size;
    const int64_t L = bert ? T - 2 : T;  // text tokens per window
    MaskedEvaluation result;
    result.tokens = tokens.size();
    result.windows = bert ? tokens.size() / L : tokens.size() > 0 ? (tokens.size() - 1) / T : 0;
    if (result.windows == 0)
        throw std::invalid_argument("eval: " + std::to_string(tokens.size()) + " tokens do not fill one window of " +
                                    std::to_string(L) + (bert ? " tokens between [CLS] and [SEP]" : " inputs + 1 target"));
    EvalModeGuard eval_mode(model);
    NoGradGuard no_grad;
    double loss_sum = 0.0;
    for (int64_t first = 0; first < result.windows; first += windows_per_batch) {
        const int64_t B = std::min(windows_per_batch, result.windows - first);
        const MaskedBatch batch = bert ? bert_batch(tokens, special, seed, first, B, T) : gpt_batch(tokens, special, seed, first, B, T);
        std::vector<int32_t> targets(size_t(B * T), kIgnoredTarget);
        int64_t masked = 0;
        for (size_t r = 0; r < targets.size(); ++r)
            if (batch.predicts[r] >= 0) {
                targets[r] = tokens[batch.predicts[r]];
                ++masked;
            }
        if (masked == 0) continue;
        const Tensor logits = model.forward(batch.inputs, B, T);  // [B, T, V]
        // cross_entropy is the mean over the masked rows; weight it back into their sum.
        loss_sum += static_cast<double>(GPT::loss(logits, targets).item()) * static_cast<double>(masked);
        for (size_t r = 0; r < targets.size(); ++r)
            if (targets[r] != kIgnoredTarget)
                result.correct += best_ordinary(logits.data() + int64_t(r) * V, special.ordinary) == targets[r];
        result.masked += masked;
    }
    if (result.masked == 0) throw std::invalid_argument("eval: the text has no position to mask (too short)");
    result.loss = loss_sum / static_cast<double>(result.masked);
    result.accuracy = static_cast<double>(result.correct) / static_cast<double>(result.masked);
    return result;
}

}  // namespace gpt
