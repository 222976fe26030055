// The sample printed at the end of `gpt train`: proof that the run learned something, in its own words.
#pragma once

#include "data/tokenizer.h"
#include "nn/gpt.h"
#include "train/config.h"

#include <string>
#include <string_view>

namespace gpt {

// Generates config.sample_tokens tokens (temperature 0.8, top-k 40, seed = config.seed) from the default
// prompt and prints them to stdout under a header on stderr. Leaves the model in train mode.
void print_end_of_training_sample(GPT& model, const Tokenizer& tokenizer, const TrainConfig& config);

// The sample taken at an evaluation: `tokens` tokens from the default prompt (temperature 0.8, top-k 40)
// with a generator of its own seeded by (seed, step), so it draws nothing from training's streams and a
// resumed run writes the same text. Returned as valid UTF-8 (a byte-level token may end mid-character:
// such bytes become U+FFFD), ready for metrics.jsonl. Leaves the model in train mode.
std::string evaluation_sample(GPT& model, const Tokenizer& tokenizer, int64_t tokens, int64_t seed, int64_t step);

// `bytes` with invalid UTF-8 replaced by U+FFFD, one per maximal invalid subpart (data/utf8.h's rule).
std::string valid_utf8(std::string_view bytes);

}  // namespace gpt
