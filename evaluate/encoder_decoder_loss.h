// The held-out loss of an encoder–decoder (model = transformer): validation during training and `gpt eval`.
#pragma once

#include <cstdint>
#include <vector>

#include "data/parallel_corpus.h"
#include "nn/encoder_decoder.h"

namespace gpt {

struct EncoderDecoderLoss {
    double loss = 0.0;     // mean cross-entropy per target token (each target's eos included), ε = 0
    int64_t tokens = 0;    // target tokens scored
    int64_t examples = 0;  // examples read
};

// The examples in file order, in batches of B (the last one shorter), at most max_batches of them (0: all).
// Eval mode (no dropout) without a tape; the model's mode is restored.
EncoderDecoderLoss encoder_decoder_loss(EncoderDecoder& model, const std::vector<ParallelExample>& examples,
                                        const Seq2SeqVocabulary& vocabulary, int64_t B, int64_t max_batches = 0);

}  // namespace gpt
