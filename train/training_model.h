// What the one training loop (train/trainer.cpp, train/train_step.cpp) needs from a model kind, so that
// every kind trains with the same steps, checkpoints, exact resume, data parallelism, evaluation and
// metrics:
//   model = gpt          train/gpt_training.h: windows of a token stream, the next-token loss
//   model = bert         the same, each window made a masked-LM example (data/masked_lm.h), the loss on
//                        the masked tokens
//   model = transformer  train/encoder_decoder_training.h: batches of source/target pairs, the
//                        decoder's loss (label smoothing optional)
// A TrainingModel owns the model, its tokenizer and data, and the job's one stream of micro-batches
// (a sampler whose state goes into the checkpoint); the trainer owns the optimizer over module()'s
// parameters and everything else, and never sees the model's type.
#pragma once

#include <cstdint>
#include <string>

#include "checkpoint/training_state.h"
#include "data/batch_sampler.h"
#include "data/parallel_corpus.h"
#include "data/tokenizer.h"
#include "nn/encoder_decoder.h"
#include "nn/gpt.h"
#include "optim/adamw.h"
#include "optim/muon.h"
#include "train/config.h"

namespace gpt {

class TrainingModel {
public:
    virtual ~TrainingModel() = default;

    virtual Module& module() = 0;  // the parameters (named_parameters: the optimizer's order), train()/eval()
    virtual const Tokenizer& tokenizer() const = 0;
    virtual std::string data_summary() const = 0;  // the banner's "train … tokens, val … tokens"
    // The loop's token counts (tokens/step, tokens_seen, tokens/s) are batch_size × this per sequence.
    virtual int64_t positions_per_sequence() const = 0;

    // The batch stream: the same state on every rank (train/train_step.h). next_batch_loss draws the next
    // micro-batch and returns its mean loss on the tape, dropout drawn from `dropout`; `length` is this
    // step's sequence length (model = gpt's sequence-length warm-up; the other kinds refuse one).
    virtual Tensor next_batch_loss(int64_t length, Generator& dropout) = 0;
    virtual void skip_batch() = 0;  // draws it and computes nothing: another rank's micro-batch
    virtual SamplerState batch_state() const = 0;
    virtual void set_batch_state(const SamplerState& state) = 0;

    // Rank 0's evaluation; both leave the model in train mode. The sample ("" for none) goes to
    // metrics.jsonl: generated text (gpt), a held-out source and its greedy output (transformer).
    virtual double validation_loss(const TrainConfig& config, uint64_t seed) = 0;
    virtual std::string evaluation_sample(const TrainConfig& config, int64_t step) = 0;
    virtual void print_final_sample(const TrainConfig& config) = 0;  // after the last step

    // The checkpoint (docs/checkpoint_format.md): a full one (ckpt.h5) and weights only (ckpt_best.h5).
    virtual void save_checkpoint(const std::string& path, const AdamW& optimizer, const Muon* muon,
                                 const TrainConfig& config, const TrainProgress& progress) const = 0;
    virtual void save_weights(const std::string& path, const TrainConfig& config) const = 0;

    // The model for what the loop does not do itself (the report): model = gpt and bert: the GPT;
    // model = transformer: the encoder–decoder and its held-out examples; nullptr for the other kinds.
    virtual GPT* gpt() { return nullptr; }
    virtual EncoderDecoder* encoder_decoder() { return nullptr; }
    virtual const std::vector<ParallelExample>* held_out_examples() const { return nullptr; }
};

}  // namespace gpt
