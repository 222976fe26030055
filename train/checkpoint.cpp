#include "train/checkpoint.h"

#include <stdexcept>

namespace gpt {

void save_checkpoint(const std::string& path, const GPT& model, const Tokenizer& tokenizer, const AdamW& optimizer,
                     const Muon* muon, const TrainConfig& config, const TrainProgress& progress) {
    save_weights(path, model, tokenizer, config_to_toml(config),
                 [&](H5File& file) { write_training_state(file, optimizer, muon, progress); });
}

void save_weights(const std::string& path, const GPT& model, const Tokenizer& tokenizer, const TrainConfig& config) {
    save_weights(path, model, tokenizer, config_to_toml(config));
}

void save_checkpoint(const std::string& path, const EncoderDecoder& model, const Tokenizer& tokenizer,
                     const AdamW& optimizer, const Muon* muon, const TrainConfig& config, const TrainProgress& progress) {
    save_encoder_decoder(path, model, tokenizer, config_to_toml(config),
                         [&](H5File& file) { write_training_state(file, optimizer, muon, progress); });
}

void save_weights(const std::string& path, const EncoderDecoder& model, const Tokenizer& tokenizer,
                  const TrainConfig& config) {
    save_encoder_decoder(path, model, tokenizer, config_to_toml(config));
}

TrainConfig stored_train_config(const LoadedCheckpoint& loaded, const std::string& path) {
    return stored_train_config(loaded.train_config_toml, path);
}

TrainConfig stored_train_config(const std::string& train_config_toml, const std::string& path) {
    TrainConfig config;
    if (train_config_toml.empty()) return config;
    try {
        apply_toml(config, train_config_toml, path + " /config/train_config",
                   [](const std::string&) { return true; });
    } catch (const std::invalid_argument& e) {
        throw std::runtime_error(e.what());
    }
    return config;
}

RunCheckpoint load_run_checkpoint(const std::string& path, const RunCheckpointOptions& options) {
    RunCheckpoint run;
    static_cast<ResumableCheckpoint&>(run) = load_resumable_checkpoint(path, {options.dropout}, options.training_state);
    run.train_config = stored_train_config(run, path);
    return run;
}

EncoderDecoderRunCheckpoint load_encoder_decoder_run(const std::string& path, const RunCheckpointOptions& options) {
    EncoderDecoderRunCheckpoint run;
    static_cast<ResumableEncoderDecoder&>(run) =
        load_resumable_encoder_decoder(path, options.dropout, options.training_state);
    run.train_config = stored_train_config(run.train_config_toml, path);
    return run;
}

}  // namespace gpt
