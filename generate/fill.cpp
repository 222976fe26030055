#include "generate/fill.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "data/masked_lm.h"

namespace gpt {

namespace {

std::vector<int32_t> encode_masked(const Tokenizer& tokenizer, const MaskedLmTokens& special, std::string_view text,
                                   std::string_view option) {
    std::vector<int32_t> ids{special.cls};
    size_t start = 0;
    for (;;) {
        const size_t mask = text.find(kMaskToken, start);
        const std::string_view piece = text.substr(start, mask == std::string_view::npos ? std::string_view::npos : mask - start);
        try {
            const std::vector<int32_t> part = tokenizer.encode(piece);
            ids.insert(ids.end(), part.begin(), part.end());
        } catch (const std::exception& e) {
            throw std::invalid_argument(std::string(option) + " cannot be encoded with the checkpoint's tokenizer: " +
                                        std::string(e.what()));
        }
        if (mask == std::string_view::npos) break;
        ids.push_back(special.mask);
        start = mask + kMaskToken.size();
    }
    ids.push_back(special.sep);
    return ids;
}

// softmax over the whole row (in double), then the `top` most probable ordinary ids.
std::vector<Candidate> best_candidates(const float* logits, int64_t V, int32_t ordinary, int64_t top) {
    const float max = *std::max_element(logits, logits + V);
    double total = 0.0;
    for (int64_t v = 0; v < V; ++v) total += std::exp(static_cast<double>(logits[v]) - max);
    std::vector<float> probs(static_cast<size_t>(ordinary));
    for (int32_t v = 0; v < ordinary; ++v) probs[size_t(v)] = static_cast<float>(std::exp(static_cast<double>(logits[v]) - max) / total);
    return top_candidates(probs, std::min<int64_t>(top, ordinary));
}

}  // namespace

std::vector<int32_t> encode_masked_text(const Tokenizer& tokenizer, std::string_view text, std::string_view option) {
    return encode_masked(tokenizer, MaskedLmTokens::of(tokenizer), text, option);
}

FillResult fill_masks(const GPT& model, const Tokenizer& tokenizer, std::string_view text, int64_t top) {
    if (!model.config().bidirectional())
        throw std::invalid_argument("fill needs a bert model (model = bert); this one is " + model.config().kind +
                                    " (causal: it continues text, see gpt sample)");
    if (top < 1) throw std::invalid_argument("--top must be >= 1, got " + std::to_string(top));
    if (text.find(kMaskToken) == std::string_view::npos)
        throw std::invalid_argument("--text has no [MASK]: write [MASK] where a token is to be filled in, e.g. "
                                    "\"To be or [MASK] to be\"");
    const MaskedLmTokens special = MaskedLmTokens::of(tokenizer);
    FillResult result;
    result.ids = encode_masked(tokenizer, special, text, "--text");
    const int64_t T = static_cast<int64_t>(result.ids.size()), block = model.config().block_size;
    if (T > block)
        throw std::invalid_argument("--text is " + std::to_string(T - 2) + " tokens; with [CLS] and [SEP] that is more than " +
                                    "the model's block_size " + std::to_string(block));
    NoGradGuard no_grad;
    const Tensor logits = model.forward(result.ids, 1, T);  // [1, T, V]
    const int64_t V = model.config().vocab_size;
    for (int64_t t = 0; t < T; ++t)
        if (result.ids[size_t(t)] == special.mask)
            result.masks.push_back({t, best_candidates(logits.data() + t * V, V, special.ordinary, top)});
    return result;
}

}  // namespace gpt
