// The model file: the part of a checkpoint that sampling, evaluation, serving, export and the report
// read — the model's configuration, its weights and its tokenizer. checkpoint/ is the only code that
// knows the HDF5 layout (docs/checkpoint_format.md):
//
//   /config      attributes vocab_size, block_size, n_layer, n_head, n_kv_head, n_embd, pos_encoding,
//                dropout, bias; vocab_used (padded vocabularies only); attention, kv_latent_dim,
//                q_latent_dim, rope_head_dim (MLA only); norm, mlp, mlp_hidden, qk_norm, tie_embeddings
//                (only when not GPT-2's: absent = layernorm, gelu, 0, 0, 1); train_config: the effective TrainConfig of the
//                run that wrote the file, as TOML text (read by train/, kept as text here)
//   /model/<n>   float32, one dataset per named_parameters() entry, shaped as PyTorch would
//   /meta        attributes format_version (1), created_by
//   /tokenizer   attribute type; token_bytes, token_offsets, merges (bpe, gpt2), special_ids
//   /optimizer, /train   the training state: checkpoint/training_state.h (train/ only)
//
// Written atomically (ckpt.h5.tmp, fsync, rename: io/hdf5.h write_atomically); datasets are chunked
// with Fletcher32 checksums. Nothing here includes the optimizer or the training configuration.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "data/tokenizer.h"
#include "nn/gpt.h"

namespace gpt {

class H5File;

inline constexpr int64_t kCheckpointFormatVersion = 1;

// --- writing ---
void write_model(H5File& file, const GPT& model);
void write_tokenizer(H5File& file, const Tokenizer& tokenizer);
// Writes a weights-only file atomically: /config (with `train_config_toml` as its train_config
// attribute), /meta, /model, /tokenizer (ckpt_best.h5, imports). `fill_more` adds groups (the training
// state) to the same file before it is written.
void save_weights(const std::string& path, const GPT& model, const Tokenizer& tokenizer,
                  const std::string& train_config_toml, const std::function<void(H5File&)>& fill_more = {});

// --- reading: every failure is a std::runtime_error with one line naming the file and the object ---
struct CheckpointLoadOptions {
    // Build the model with this dropout instead of the stored one (dropout is not part of the weights).
    std::optional<double> dropout;
};

// Everything read from one checkpoint file, opened once.
struct LoadedCheckpoint {
    GPTConfig model_config;    // the stored /config (dropout as the model was built with)
    std::string train_config_toml;  // /config train_config as stored ("" when absent); train/ parses it
    std::unique_ptr<GPT> model;
    std::shared_ptr<Tokenizer> tokenizer;
    bool has_training_state = false;  // the file holds /optimizer and /train
};

// Model + tokenizer + stored config; checks format_version, every name/shape/dtype, and that the
// tokenizer's vocabulary matches the model's. The model is in eval mode.
LoadedCheckpoint load_checkpoint(const std::string& path, const CheckpointLoadOptions& options = {});
// The same from a file already open (train/ reads the training state from the same open file).
LoadedCheckpoint read_checkpoint(const H5File& file, const CheckpointLoadOptions& options = {});

// "RUN_DIR" → RUN_DIR/ckpt.h5; a file path is returned as is. Throws if neither exists.
std::string resolve_checkpoint_path(const std::string& run_dir_or_file);

}  // namespace gpt
