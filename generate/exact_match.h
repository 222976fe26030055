// Held-out exact-match accuracy of an encoder–decoder (model = transformer): the share of examples whose
// greedy output (generate/seq2seq.h) equals the target token for token. `gpt eval` reports it.
#pragma once

#include <cstdint>
#include <vector>

#include "data/parallel_corpus.h"
#include "nn/encoder_decoder.h"

namespace gpt {

struct ExactMatch {
    int64_t correct = 0;
    int64_t total = 0;
    double accuracy() const { return total > 0 ? static_cast<double>(correct) / static_cast<double>(total) : 0.0; }
};

// The first max_examples examples (0: all), each decoded greedily up to target_block_size − 1 tokens.
// The model must be in eval mode.
ExactMatch exact_match(const EncoderDecoder& model, const std::vector<ParallelExample>& examples,
                       const Seq2SeqVocabulary& vocabulary, int64_t max_examples = 0);

}  // namespace gpt
