// The checkpoint: the only code that knows the HDF5 layout. One file holds everything needed to
// continue a run or to sample from it:
//
//   /config      attributes vocab_size, block_size, n_layer, n_head, n_kv_head, n_embd, pos_encoding,
//                dropout, bias; attribute train_config: the effective TrainConfig as TOML text
//   /model/<n>   float32, one dataset per named_parameters() entry, shaped as PyTorch would
//   /meta        attributes format_version (1), created_by
//   /tokenizer   attribute type; token_bytes, token_offsets, merges (bpe), special_ids
//   /optimizer   attributes step, lr, beta1, beta2, eps, weight_decay; m/<name>, v/<name>
//   /train       attributes iter, tokens_seen, best_val_loss, ranks; datasets dropout_rng [4] uint64,
//                sampler_state [5] uint64: the batch sampler's generator (4 words), batches drawn,
//                rank_dropout_rng [ranks, 4] uint64: every rank's dropout generator (row 0 = dropout_rng)
// The layout is the same whatever the number of ranks: one model, one optimizer, one sampler stream
// (every rank holds the same sampler state, train/train_step.h). Files without ranks / rank_dropout_rng
// (written before data-parallel training) read as one rank.
//
// Written atomically (ckpt.h5.tmp, fsync, rename); datasets are chunked with Fletcher32 checksums.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/random.h"
#include "data/batch_sampler.h"
#include "data/tokenizer.h"
#include "nn/gpt.h"
#include "optim/adamw.h"
#include "train/config.h"

namespace gpt {

class H5File;

inline constexpr int64_t kCheckpointFormatVersion = 1;

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
struct TrainingState {
    AdamWState optimizer;
    TrainProgress progress;
};

// --- writing ---
void write_model(H5File& file, const GPT& model);
void write_tokenizer(H5File& file, const Tokenizer& tokenizer);
// Atomically writes a full training checkpoint to `path`.
void save_checkpoint(const std::string& path, const GPT& model, const Tokenizer& tokenizer, const AdamW& optimizer,
                     const TrainConfig& config, const TrainProgress& progress);
// Weights + tokenizer + config only (ckpt_best.h5 and exports).
void save_weights(const std::string& path, const GPT& model, const Tokenizer& tokenizer, const TrainConfig& config);

// --- reading: every failure is a std::runtime_error with one line naming the file and the object ---
struct CheckpointLoadOptions {
    // Also read /optimizer and /train into LoadedCheckpoint::training (refused for a weights-only file).
    bool training_state = false;
    // Build the model with this dropout instead of the stored one (dropout is not part of the weights).
    std::optional<double> dropout;
};

// Everything read from one checkpoint file, opened once.
struct LoadedCheckpoint {
    GPTConfig model_config;    // the stored /config (dropout as the model was built with)
    TrainConfig train_config;  // as stored (the effective config of the run that wrote it)
    std::unique_ptr<GPT> model;
    std::shared_ptr<Tokenizer> tokenizer;
    bool has_training_state = false;       // the file holds /optimizer and /train
    std::optional<TrainingState> training;  // read when CheckpointLoadOptions::training_state asks
};

// Model + tokenizer + stored config (+ training state when asked); checks format_version, every
// name/shape/dtype, and that the tokenizer's vocabulary matches the model's. The model is in eval mode.
LoadedCheckpoint load_checkpoint(const std::string& path, const CheckpointLoadOptions& options = {});

// /optimizer and /train of an open checkpoint, the moments shaped as `model`'s parameters (part of
// load_checkpoint, in checkpoint_train.cpp).
TrainingState read_training_state(const H5File& file, const GPT& model);

// "RUN_DIR" → RUN_DIR/ckpt.h5; a file path is returned as is. Throws if neither exists.
std::string resolve_checkpoint_path(const std::string& run_dir_or_file);

}  // namespace gpt
