#include "report/report_attention.h"

#include <stdexcept>
#include <string>

namespace gpt {

PromptAnalysis analyse_prompt(const GPT& model, const std::vector<int32_t>& ids, int64_t position) {
    if (model.is_training())
        throw std::invalid_argument("analyse_prompt: the model is in train mode (dropout on); call eval() first");
    const GPTConfig& config = model.config();
    const int64_t T = static_cast<int64_t>(ids.size());
    if (T < 1 || T > config.block_size)
        throw std::invalid_argument("analyse_prompt: prompt has " + std::to_string(T) + " tokens, need 1.." +
                                    std::to_string(config.block_size));
    if (position < -1 || position >= T)
        throw std::invalid_argument("analyse_prompt: position " + std::to_string(position) + " outside the " +
                                    std::to_string(T) + " prompt tokens");
    NoGradGuard no_grad;
    PromptAnalysis out;
    out.causal = !config.bidirectional();
    out.position = position < 0 ? T - 1 : position;
    out.n_layer = config.n_layer;
    out.n_head = config.n_head;
    out.T = T;
    out.attention.reserve(static_cast<size_t>(out.n_layer * out.n_head * T * T));

    ForwardProbe inference;
    inference.record_attention = true;
    const Tensor x = model.hidden(ids, 1, T, &inference);
    for (const Tensor& layer : inference.attention)  // [1, H, T, T] each
        out.attention.insert(out.attention.end(), layer.data(), layer.data() + layer.numel());
    const Tensor logits = model.logits_from_hidden(x);  // [1, T, V]
    const int64_t V = logits.size(-1);
    const float* row = logits.data() + out.position * V;
    out.next_logits.assign(row, row + V);
    return out;
}

}  // namespace gpt
