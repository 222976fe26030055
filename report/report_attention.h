// What the model does with one prompt, for the report's attention maps and next-token view.
//
// The model's own forward runs once without a tape (NoGradGuard), with a ForwardProbe that asks each
// layer's attention op for its probabilities (nn/gpt.h): the maps are what the kernel the model trains
// with computes, P[l, h, i, j] = softmax_j(q_h,i · k_g,j / √hd) for j ≤ i, 0 for j > i (model = bert:
// bidirectional, every j).
// Shapes: T prompt tokens, L layers, H query heads, V vocabulary.
#pragma once

#include <cstdint>
#include <vector>

#include "nn/gpt.h"

namespace gpt {

struct PromptAnalysis {
    int64_t n_layer = 0, n_head = 0, T = 0;
    bool causal = true;              // false for model = bert: every row over all T keys
    std::vector<float> attention;    // [L, H, T, T], row i sums to 1 over j ≤ i (causal: zeros above the diagonal)
    int64_t position = 0;            // the position whose logits these are
    std::vector<float> next_logits;  // [V]: the logits at `position`: a GPT's prediction of the token after it,
                                     // a bert's of the token at it (a [MASK])

    float weight(int64_t layer, int64_t head, int64_t i, int64_t j) const {
        return attention[static_cast<size_t>(((layer * n_head + head) * T + i) * T + j)];
    }
};

// ids: 1 ≤ T ≤ block_size tokens; position: the logits kept, −1 = the last token's. The model should be
// in eval mode (dropout would change the weights); throws std::invalid_argument otherwise.
PromptAnalysis analyse_prompt(const GPT& model, const std::vector<int32_t>& ids, int64_t position = -1);

}  // namespace gpt
