// The masked-language-model objective of BERT (Devlin et al. 2019, §3.1), over the windows the batch
// sampler draws (data/batch_sampler.h), and its fixed masking for evaluation.
//
// Special tokens: [PAD], [CLS], [SEP], [MASK], appended to any tokenizer as special tokens after its
// vocabulary (with_special_tokens, data/tokenizer.h), so a checkpoint's /tokenizer knows their ids.
// The corpus is encoded without special tokens, so text that spells "[MASK]" is ordinary text there;
// only `gpt fill` reads the literal "[MASK]" as the mask.
//
// A training window of T positions (the model's block_size):
//   inputs  = [CLS] x_0 x_1 … x_{T−3} [SEP]        x: the first T−2 tokens of the sampler's window
//   targets = x_i at the chosen positions, −100 (ignored by cross_entropy) everywhere else
// Of the n non-special text positions, k = round(0.15·n) (at least 1 when n > 0) are chosen uniformly
// without replacement; each chosen one becomes [MASK] with probability 0.8, a random ordinary token
// with 0.1, and stays itself with 0.1. [CLS] and [SEP] are BERT's: one window is one "sentence"
// (no next-sentence objective, as RoBERTa); [PAD] is never needed by full windows but is reserved.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/random.h"
#include "data/batch_sampler.h"
#include "data/tokenizer.h"

namespace gpt {

inline constexpr std::string_view kPadToken = "[PAD]";
inline constexpr std::string_view kClsToken = "[CLS]";
inline constexpr std::string_view kSepToken = "[SEP]";
inline constexpr std::string_view kMaskToken = "[MASK]";
inline constexpr int32_t kIgnoredTarget = -100;  // cross_entropy's default ignore_index
inline constexpr double kMaskedFraction = 0.15;  // of the text positions: chosen for the loss

// [PAD], [CLS], [SEP], [MASK], in the order with_special_tokens appends them.
std::vector<std::string> masked_lm_token_names();

// The ids a masked LM needs, found in a tokenizer by their bytes.
struct MaskedLmTokens {
    int32_t pad = -1, cls = -1, sep = -1, mask = -1;
    // Ids [0, ordinary) are ordinary tokens (every tokenizer keeps its special tokens last): the random
    // replacements are drawn from them, and `gpt fill` ranks only them.
    int32_t ordinary = 0;
    std::vector<int32_t> specials;  // every special id of the tokenizer (<|endoftext|> too)

    // Throws std::invalid_argument naming the first missing token ("the tokenizer has no [MASK] ...").
    static MaskedLmTokens of(const Tokenizer& tokenizer);
    // Only `ordinary` and `specials` (pad, cls, sep, mask stay −1): a GPT's tokenizer, scored on the
    // same masked positions (evaluate/evaluate.h, evaluate_masked).
    static MaskedLmTokens ordinary_of(const Tokenizer& tokenizer);
    bool is_special(int32_t id) const;
};

// Turns B windows of T sampled tokens (inputs [B·T], as the sampler wrote them) into masked-LM examples
// in place: inputs as above, targets [B·T] overwritten. T ≥ 3. Draws only from `generator`.
void make_masked_lm_batch(std::span<int32_t> inputs, std::span<int32_t> targets, int64_t B, int64_t T,
                          const MaskedLmTokens& tokens, Generator& generator);

// The masking stream of one batch: a generator seeded from the sampler's state right after it drew the
// batch (BatchSampler::state()). The masks are thus a function of the sampler's stream alone, whose
// state the checkpoint holds: a resumed run masks as the uninterrupted one, and data-parallel ranks,
// which skip each other's batches (skip_batch moves the state as next_batch does), mask as one process.
Generator masking_generator(const SamplerState& after_draw);

// Evaluation's fixed masking (`gpt eval`): whether token `position` of the evaluated text is masked,
// with probability kMaskedFraction from a hash of (seed, position) alone, so a BERT and a GPT evaluated
// on the same text are scored on the same positions whatever their windows.
bool masked_in_evaluation(uint64_t seed, int64_t position);

}  // namespace gpt
