// Fill-in for a masked language model (model = bert, data/masked_lm.h): `gpt fill`.
//
// The text marks each token to fill in with the literal "[MASK]" (the only way to write the mask;
// every other character, "[CLS]" too, is ordinary text). It is read as [CLS] text [SEP], every [MASK]
// becoming the mask token, and one forward of the bidirectional model gives, for each mask, a
// distribution over the vocabulary (softmax of its logits); the candidates are the most probable
// ordinary tokens (never a special token). The masks are filled independently, from the one forward:
// each sees the others as [MASK].
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "data/tokenizer.h"
#include "generate/sampling.h"
#include "nn/gpt.h"

namespace gpt {

struct MaskFill {
    int64_t position = 0;               // the mask's index in the model's input ([CLS] is 0)
    std::vector<Candidate> candidates;  // most probable first; probabilities over the whole vocabulary
};

struct FillResult {
    std::vector<int32_t> ids;    // [CLS] … [SEP], as the model read them
    std::vector<MaskFill> masks;  // in text order
};

// [CLS] text [SEP], each literal "[MASK]" of the text the mask token (the pieces between encoded as
// ordinary text). Throws std::invalid_argument "OPTION cannot be encoded with the checkpoint's tokenizer: …".
std::vector<int32_t> encode_masked_text(const Tokenizer& tokenizer, std::string_view text,
                                        std::string_view option = "--text");

// `top`: candidates per mask (≥ 1; at most the ordinary vocabulary). Throws std::invalid_argument with one
// line: a model that is not bert, text without "[MASK]", text the tokenizer cannot encode, or more
// tokens than the model's block_size.
FillResult fill_masks(const GPT& model, const Tokenizer& tokenizer, std::string_view text, int64_t top);

}  // namespace gpt
