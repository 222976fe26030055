// The training state: the part of a checkpoint that only continuing a run needs, beside the model file
// (checkpoint/model_file.h). Used by train/ alone (tests/scripts/layers.py checks it):
//
//   /optimizer   attributes step, lr, beta1, beta2, eps, weight_decay; m/<name>, v/<name> for every
//                parameter AdamW updates (all, or those Muon does not take)
//   /muon        (optimizer = muon only) attributes step, lr, momentum, nesterov, ns_steps, ns_a, ns_b, ns_c,
//                weight_decay; momentum/<name> for each matrix Muon takes (optim/muon.h muon_takes)
//   /train       attributes iter, tokens_seen, best_val_loss, ranks; datasets dropout_rng [4] uint64,
//                sampler_state [5] uint64: the batch sampler's generator (4 words), batches drawn,
//                rank_dropout_rng [ranks, 4] uint64: every rank's dropout generator (row 0 = dropout_rng)
// The layout is the same whatever the number of ranks: one model, one optimizer, one sampler stream
// (every rank holds the same sampler state, train/train_step.h). Files without ranks / rank_dropout_rng
// (written before data-parallel training) read as one rank.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "checkpoint/encoder_decoder_file.h"
#include "checkpoint/model_file.h"
#include "common/random.h"
#include "data/batch_sampler.h"
#include "nn/gpt.h"
#include "optim/adamw.h"
#include "optim/muon.h"

namespace gpt {

class H5File;

// The moving parts of a run beside the model and the optimizer. Only the checkpoint code knows how
// they are stored (the sampler state as five uint64 words, the dropout generator as four).
struct TrainProgress {
    int64_t iter = 0;  // optimizer steps completed
    int64_t tokens_seen = 0;
    double best_val_loss = 0.0;  // +inf until the first evaluation (stored as such)
    Generator::State dropout_rng{};
    SamplerState sampler{};
    // Data-parallel runs: the number of ranks that wrote the file and every rank's dropout generator
    // (rank 0's is dropout_rng). Empty rank_dropout_rng: one rank, dropout_rng.
    int64_t ranks = 1;
    std::vector<Generator::State> rank_dropout_rng;
};

// What continuing a run needs beside the weights: /optimizer and /train.
struct ResumeState {
    AdamWState optimizer;
    std::optional<MuonState> muon;  // the file has /muon
    TrainProgress progress;
};

// Adds /optimizer (AdamW's options, step and moments, named as its parameters), /muon when `muon` is
// given, and /train.
void write_training_state(H5File& file, const AdamW& optimizer, const Muon* muon, const TrainProgress& progress);

// /optimizer, /muon (when present) and /train of an open checkpoint, the moments shaped as `model`'s
// parameters (with /muon, AdamW's are those muon_takes refuses). Throws std::runtime_error naming the
// file and the object.
ResumeState read_training_state(const H5File& file, const Module& model);

// A checkpoint as a run continues from it: the model file and, when asked, its training state, read
// from one opening of the file (a weights-only file is refused when the state is asked for).
struct ResumableCheckpoint : LoadedCheckpoint {
    std::optional<ResumeState> training;
};
ResumableCheckpoint load_resumable_checkpoint(const std::string& path, const CheckpointLoadOptions& options,
                                              bool training_state);

// The same for an encoder–decoder (model = transformer, checkpoint/encoder_decoder_file.h).
struct ResumableEncoderDecoder : LoadedEncoderDecoder {
    std::optional<ResumeState> training;
};
ResumableEncoderDecoder load_resumable_encoder_decoder(const std::string& path, std::optional<double> dropout,
                                                       bool training_state);

// The step a checkpoint file was written at (/train iter); -1 for a weights-only file.
int64_t checkpoint_step(const std::filesystem::path& checkpoint);

}  // namespace gpt
