// A run's checkpoint as training reads and writes it: the model file (checkpoint/model_file.h) plus the
// training state (checkpoint/training_state.h) and the training configuration, stored as TOML text in
// /config train_config and parsed here (checkpoint/ does not know TrainConfig).
#pragma once

#include <optional>
#include <string>

#include "checkpoint/encoder_decoder_file.h"
#include "checkpoint/model_file.h"
#include "checkpoint/training_state.h"
#include "optim/adamw.h"
#include "optim/muon.h"
#include "train/config.h"

namespace gpt {

// Atomically writes a full training checkpoint to `path`: model file + /optimizer + /train (+ /muon when
// the run has a Muon).
void save_checkpoint(const std::string& path, const GPT& model, const Tokenizer& tokenizer, const AdamW& optimizer,
                     const Muon* muon, const TrainConfig& config, const TrainProgress& progress);
// Weights + tokenizer + config only (ckpt_best.h5).
void save_weights(const std::string& path, const GPT& model, const Tokenizer& tokenizer, const TrainConfig& config);

// The same for an encoder–decoder (model = transformer, checkpoint/encoder_decoder_file.h).
void save_checkpoint(const std::string& path, const EncoderDecoder& model, const Tokenizer& tokenizer,
                     const AdamW& optimizer, const Muon* muon, const TrainConfig& config, const TrainProgress& progress);
void save_weights(const std::string& path, const EncoderDecoder& model, const Tokenizer& tokenizer,
                  const TrainConfig& config);

// The stored training configuration of `loaded`, read from `path` (defaults when the file has none).
TrainConfig stored_train_config(const LoadedCheckpoint& loaded, const std::string& path);
// The same from the stored TOML text ("": the defaults).
TrainConfig stored_train_config(const std::string& train_config_toml, const std::string& path);

struct RunCheckpointOptions {
    bool training_state = false;    // also read /optimizer and /train (refused for a weights-only file)
    std::optional<double> dropout;  // build the model with this dropout instead of the stored one
};

// A checkpoint as a run starts from it (--resume, --init_from): the model file, its parsed training
// configuration and, when asked, its training state, all from one opening of the file.
struct RunCheckpoint : ResumableCheckpoint {
    TrainConfig train_config;
};
RunCheckpoint load_run_checkpoint(const std::string& path, const RunCheckpointOptions& options);

// model = transformer: the same from an encoder–decoder checkpoint (training state when asked).
struct EncoderDecoderRunCheckpoint : ResumableEncoderDecoder {
    TrainConfig train_config;
};
EncoderDecoderRunCheckpoint load_encoder_decoder_run(const std::string& path, const RunCheckpointOptions& options);

}  // namespace gpt
