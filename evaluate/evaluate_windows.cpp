#include <algorithm>
#include <stdexcept>
#include <vector>

#include "evaluate/evaluate.h"

namespace gpt {

WindowEvaluation evaluate_windows(GPT& model, TokenSpan tokens, int64_t T, int64_t windows_per_batch) {
    WindowEvaluation result;
    result.tokens = tokens.size();
    result.windows = tokens.size() > 0 ? (tokens.size() - 1) / T : 0;
    if (result.windows == 0)
        throw std::invalid_argument("eval: " + std::to_string(tokens.size()) + " tokens do not fill one window of " +
                                    std::to_string(T) + " inputs + 1 target");
    EvalModeGuard eval_mode(model);
    NoGradGuard no_grad;
    double total = 0.0;
    for (int64_t first = 0; first < result.windows; first += windows_per_batch) {
        const int64_t B = std::min(windows_per_batch, result.windows - first);
        std::vector<int32_t> inputs(static_cast<size_t>(B * T)), targets(static_cast<size_t>(B * T));
        for (int64_t b = 0; b < B; ++b) {
            const int64_t start = (first + b) * T;
            tokens.copy(start, T, inputs.data() + b * T);
            tokens.copy(start + 1, T, targets.data() + b * T);
        }
        const Tensor logits = model.forward(inputs, B, T);
        // cross_entropy is a mean over B·T targets; weight it back into a sum over every target.
        total += static_cast<double>(GPT::loss(logits, targets).item()) * static_cast<double>(B * T);
    }
    result.loss = total / static_cast<double>(result.windows * T);
    return result;
}

}  // namespace gpt
