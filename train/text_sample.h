// The sample printed at the end of `gpt train`: proof that the run learned something, in its own words.
#pragma once

#include "data/tokenizer.h"
#include "nn/gpt.h"
#include "train/config.h"

namespace gpt {

// Generates config.sample_tokens tokens (temperature 0.8, top-k 40, seed = config.seed) from the default
// prompt and prints them to stdout under a header on stderr. Leaves the model in train mode.
void print_end_of_training_sample(GPT& model, const Tokenizer& tokenizer, const TrainConfig& config);

}  // namespace gpt
