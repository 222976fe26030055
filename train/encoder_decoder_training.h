// model = transformer as the training loop sees it (train/training_model.h): the parallel corpus of the
// run (config.data, source<TAB>target lines, data/parallel_corpus.h) split into training and held-out
// examples, the encoder–decoder (nn/encoder_decoder.h), and an ExampleSampler of training batches.
//
// A micro-batch is batch_size examples drawn with replacement, padded to its longest source and target;
// its loss is the mean cross-entropy over the target tokens and each target's eos, with the config's
// label smoothing. The loop's token counts are batch_size × block_size (the decoder's positions, padding
// included). Validation: the mean per-token loss (no smoothing) over the first eval_iters batches of the
// held-out examples, in file order.
#pragma once

#include <memory>
#include <string>

#include "data/parallel_corpus.h"
#include "nn/encoder_decoder.h"
#include "train/config.h"
#include "train/training_model.h"

namespace gpt {

struct EncoderDecoderData {
    std::shared_ptr<const Tokenizer> tokenizer;
    Seq2SeqVocabulary vocabulary;
    ParallelSplit examples;
};

// Reads config.data with `tokenizer`, or with a char tokenizer trained on the file when it is null (a new
// run; every rank trains the same one). Throws std::invalid_argument naming FILE or FILE:LINE (a line
// without a tab, a target longer than the decoder's context, …).
EncoderDecoderData read_encoder_decoder_data(const TrainConfig& config, std::shared_ptr<const Tokenizer> tokenizer);

// `model`: the checkpoint's (resume), or null for a new one initialised from config.seed.
std::unique_ptr<TrainingModel> make_encoder_decoder_training(EncoderDecoderData data,
                                                             std::unique_ptr<EncoderDecoder> model,
                                                             const TrainConfig& config);

}  // namespace gpt
