#include "train/report_attention.h"

#include <cmath>
#include <stdexcept>
#include <string>

namespace gpt {

std::vector<float> attention_weights(const Tensor& qkv, int64_t n_head, int64_t n_kv_head) {
    if (qkv.dim() != 3 || qkv.size(0) != 1)
        throw std::invalid_argument("attention_weights: qkv must be [1, T, (H + 2·H_kv)·hd], got " +
                                    shape_str(qkv.shape()));
    const int64_t T = qkv.size(1), width = qkv.size(2), heads = n_head + 2 * n_kv_head;
    if (n_kv_head <= 0 || n_head % n_kv_head != 0 || width % heads != 0)
        throw std::invalid_argument("attention_weights: width " + std::to_string(width) + " does not fit n_head " +
                                    std::to_string(n_head) + ", n_kv_head " + std::to_string(n_kv_head));
    const int64_t hd = width / heads, group = n_head / n_kv_head;
    const float* data = qkv.data();
    const double scale = 1.0 / std::sqrt(static_cast<double>(hd));
    std::vector<float> weights(static_cast<size_t>(n_head * T * T), 0.0f);
    std::vector<double> scores(static_cast<size_t>(T));
    for (int64_t h = 0; h < n_head; ++h) {
        const int64_t g = h / group;
        for (int64_t i = 0; i < T; ++i) {
            const float* q = data + i * width + h * hd;
            double max = -INFINITY;
            for (int64_t j = 0; j <= i; ++j) {
                const float* k = data + j * width + (n_head + g) * hd;
                double s = 0.0;
                for (int64_t d = 0; d < hd; ++d) s += static_cast<double>(q[d]) * k[d];
                scores[static_cast<size_t>(j)] = s * scale;
                max = std::max(max, s * scale);
            }
            double sum = 0.0;
            for (int64_t j = 0; j <= i; ++j) sum += scores[static_cast<size_t>(j)] = std::exp(scores[static_cast<size_t>(j)] - max);
            float* row = weights.data() + (h * T + i) * T;
            for (int64_t j = 0; j <= i; ++j) row[j] = static_cast<float>(scores[static_cast<size_t>(j)] / sum);
        }
    }
    return weights;
}

PromptAnalysis analyse_prompt(const GPT& model, const std::vector<int32_t>& ids) {
    if (model.is_training())
        throw std::invalid_argument("analyse_prompt: the model is in train mode (dropout on); call eval() first");
    const GPTConfig& config = model.config();
    const int64_t T = static_cast<int64_t>(ids.size());
    if (T < 1 || T > config.block_size)
        throw std::invalid_argument("analyse_prompt: prompt has " + std::to_string(T) + " tokens, need 1.." +
                                    std::to_string(config.block_size));
    NoGradGuard no_grad;
    Generator unused(0);  // eval mode: dropout draws nothing
    PromptAnalysis out;
    out.n_layer = config.n_layer;
    out.n_head = config.n_head;
    out.T = T;
    out.attention.reserve(static_cast<size_t>(out.n_layer * out.n_head * T * T));

    Tensor x = model.embed(ids, 1, T, unused);
    for (const auto& block : model.h) {
        const Tensor qkv = block->attn->c_attn->forward(block->ln_1->forward(x));
        const std::vector<float> layer = attention_weights(qkv, block->attn->n_head(), block->attn->n_kv_head());
        out.attention.insert(out.attention.end(), layer.begin(), layer.end());
        x = block->forward(x, unused);
    }
    const Tensor logits = model.logits_from_hidden(x);  // [1, T, V]
    const int64_t V = logits.size(-1);
    const float* last = logits.data() + (T - 1) * V;
    out.next_logits.assign(last, last + V);
    return out;
}

}  // namespace gpt
