#include "data/masked_lm.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace gpt {

namespace {

// splitmix64's finaliser: a bijective mix of 64 bits (every input bit moves about half the output bits).
uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

}  // namespace

std::vector<std::string> masked_lm_token_names() {
    return {std::string(kPadToken), std::string(kClsToken), std::string(kSepToken), std::string(kMaskToken)};
}

MaskedLmTokens MaskedLmTokens::ordinary_of(const Tokenizer& tokenizer) {
    MaskedLmTokens tokens;
    tokens.specials = tokenizer.special_ids();
    std::sort(tokens.specials.begin(), tokens.specials.end());
    tokens.ordinary = tokens.specials.empty() ? tokenizer.vocab_size() : tokens.specials.front();
    if (tokens.ordinary < 1) throw std::invalid_argument("the tokenizer has no ordinary tokens");
    return tokens;
}

MaskedLmTokens MaskedLmTokens::of(const Tokenizer& tokenizer) {
    MaskedLmTokens tokens = ordinary_of(tokenizer);
    for (auto [name, id] : {std::pair{kPadToken, &tokens.pad}, std::pair{kClsToken, &tokens.cls},
                            std::pair{kSepToken, &tokens.sep}, std::pair{kMaskToken, &tokens.mask}}) {
        for (int32_t special : tokens.specials)
            if (tokenizer.token_bytes(special) == name) *id = special;
        if (*id < 0)
            throw std::invalid_argument("the tokenizer has no " + std::string(name) +
                                        " special token (a masked LM's tokenizer gets [PAD], [CLS], [SEP], [MASK])");
    }
    return tokens;
}

bool MaskedLmTokens::is_special(int32_t id) const { return std::binary_search(specials.begin(), specials.end(), id); }

void make_masked_lm_batch(std::span<int32_t> inputs, std::span<int32_t> targets, int64_t B, int64_t T,
                          const MaskedLmTokens& tokens, Generator& generator) {
    if (T < 3) throw std::invalid_argument("masked LM: a window needs T >= 3 ([CLS] + a token + [SEP]), got " + std::to_string(T));
    if (inputs.size() != size_t(B * T) || targets.size() != size_t(B * T))
        throw std::invalid_argument("masked LM: inputs/targets hold " + std::to_string(inputs.size()) + "/" +
                                    std::to_string(targets.size()) + " ids, need B*T = " + std::to_string(B * T));
    std::vector<int64_t> candidates;
    for (int64_t b = 0; b < B; ++b) {
        int32_t* in = inputs.data() + b * T;
        int32_t* target = targets.data() + b * T;
        // [CLS] x_0 … x_{T−3} [SEP]: shift the window's first T−2 tokens right by one.
        std::copy_backward(in, in + T - 2, in + T - 1);
        in[0] = tokens.cls;
        in[T - 1] = tokens.sep;
        std::fill(target, target + T, kIgnoredTarget);
        candidates.clear();
        for (int64_t t = 1; t < T - 1; ++t)
            if (!tokens.is_special(in[t])) candidates.push_back(t);
        const int64_t n = static_cast<int64_t>(candidates.size());
        const int64_t k = n == 0 ? 0 : std::max<int64_t>(1, std::llround(kMaskedFraction * static_cast<double>(n)));
        // The first k of a Fisher–Yates shuffle: k positions uniformly without replacement.
        for (int64_t i = 0; i < k; ++i) {
            const int64_t j = i + static_cast<int64_t>(generator.below(static_cast<uint64_t>(n - i)));
            std::swap(candidates[size_t(i)], candidates[size_t(j)]);
            const int64_t t = candidates[size_t(i)];
            target[t] = in[t];
            const uint64_t kind = generator.below(10);  // 0–7: [MASK], 8: a random ordinary token, 9: kept
            if (kind < 8) in[t] = tokens.mask;
            else if (kind == 8) in[t] = static_cast<int32_t>(generator.below(static_cast<uint64_t>(tokens.ordinary)));
        }
    }
}

Generator masking_generator(const SamplerState& after_draw) {
    uint64_t seed = mix64(static_cast<uint64_t>(after_draw.batches_drawn));
    for (uint64_t word : after_draw.rng) seed = mix64(seed ^ word);
    return Generator(seed);
}

bool masked_in_evaluation(uint64_t seed, int64_t position) {
    const uint64_t h = mix64(mix64(seed) ^ static_cast<uint64_t>(position));
    return static_cast<double>(h >> 11) * (1.0 / 9007199254740992.0) < kMaskedFraction;
}

}  // namespace gpt
