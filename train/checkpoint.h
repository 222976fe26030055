// The checkpoint: the only code that knows the HDF5 layout. One file holds everything needed to
// continue a run or to sample from it:
//
//   /config      attributes vocab_size, block_size, n_layer, n_head, n_kv_head, n_embd, pos_encoding,
//                dropout, bias; attribute train_config: the effective TrainConfig as TOML text
//   /model/<n>   float32, one dataset per named_parameters() entry, shaped as PyTorch would
//   /meta        attributes format_version (1), created_by
//   /tokenizer   attribute type; token_bytes, token_offsets, merges (bpe), special_ids
//   /optimizer   attributes step, lr, beta1, beta2, eps, weight_decay; m/<name>, v/<name>
//   /train       attributes iter, tokens_seen, best_val_loss; datasets dropout_rng [4] uint64,
//                sampler_state (uint64: the batch sampler's words)
//
// Written atomically (ckpt.h5.tmp, fsync, rename); datasets are chunked with Fletcher32 checksums.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/random.h"
#include "data/tokenizer.h"
#include "nn/gpt.h"
#include "train/config.h"

namespace gpt {

class AdamW;
class H5File;

inline constexpr int64_t kCheckpointFormatVersion = 1;

// The moving parts of a run beside the model and the optimizer.
struct TrainProgress {
    int64_t iter = 0;  // optimizer steps completed
    int64_t tokens_seen = 0;
    double best_val_loss = 0.0;  // +inf until the first evaluation (stored as such)
    Generator::State dropout_rng{};
    std::vector<uint64_t> sampler_state;
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
struct LoadedCheckpoint {
    GPTConfig model_config;
    TrainConfig train_config;  // as stored (the effective config of the run that wrote it)
    std::unique_ptr<GPT> model;
    std::shared_ptr<Tokenizer> tokenizer;
    bool has_training_state = false;
};

// Model + tokenizer + stored config; checks format_version, every name/shape/dtype, and that the
// tokenizer's vocabulary matches the model's. The model is in eval mode.
LoadedCheckpoint load_checkpoint(const std::string& path);
// Restores the optimizer moments and the run's progress from a full checkpoint.
TrainProgress load_training_state(const std::string& path, AdamW& optimizer);
// Reads weights into an existing model of the same config (used by resume and init_from).
void read_model(H5File& file, GPT& model);

// "RUN_DIR" → RUN_DIR/ckpt.h5; a file path is returned as is. Throws if neither exists.
std::string resolve_checkpoint_path(const std::string& run_dir_or_file);

}  // namespace gpt
