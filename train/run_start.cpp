#include "train/run_start.h"

#include <cstdio>
#include <filesystem>

#include "nn/init.h"
#include "train/memory_estimate.h"
#include "train/threads.h"
#include "train/trainer.h"

namespace gpt {
namespace fs = std::filesystem;

namespace {

// --resume: the checkpoint with its training state, built with the dropout given again (if any); the
// config becomes the stored one with the options given again (shape changes refused).
LoadedCheckpoint load_resume_source(TrainConfig& config, const OptionGiven& option_given) {
    const std::string path = resolve_checkpoint_path(config.resume);
    CheckpointLoadOptions options;
    options.training_state = true;
    if (option_given("dropout")) options.dropout = config.model.dropout;
    LoadedCheckpoint loaded = load_checkpoint(path, options);
    std::string changes;
    const std::string resume_option = config.resume;
    config = resolve_resume_config(config, loaded.train_config, option_given, &changes);
    config.resume = resume_option;
    if (!option_given("out_dir")) config.out_dir = fs::path(path).parent_path().string();
    if (!changes.empty()) std::fprintf(stderr, "resume: %s\n", changes.c_str());
    return loaded;
}

// The model a run starts from: the source checkpoint's (moved, not copied), else a new one with
// GPT-2's initialisation. The memory check runs before the optimizer state is allocated (and, for a
// new model, before the model).
std::unique_ptr<GPT> starting_model(const TrainConfig& config, int64_t vocab_size, LoadedCheckpoint* source) {
    const GPTConfig model_config = source ? source->model->config() : config.model_config(vocab_size);
    const MemoryEstimate memory = check_training_memory(model_config, config.batch_size, available_memory_bytes());
    std::fprintf(stderr, "memory: about %s\n", memory.describe(config.batch_size).c_str());
    std::unique_ptr<GPT> model;
    if (source) {
        model = std::move(source->model);
    } else {
        model = std::make_unique<GPT>(model_config);
        Generator init_generator(static_cast<uint64_t>(config.seed));
        init_gpt2(*model, init_generator);
    }
    model->train();
    return model;
}

}  // namespace

RunStart start_run(TrainConfig config, const OptionGiven& option_given) {
    std::optional<LoadedCheckpoint> source;
    if (!config.resume.empty()) source = load_resume_source(config, option_given);
    config.validate();
    const int threads = configure_threads(config.threads);
    fs::create_directories(config.out_dir);
    if (!config.init_from.empty()) {
        CheckpointLoadOptions options;
        options.dropout = config.model.dropout;  // the checkpoint's shape, this run's dropout
        source = load_checkpoint(resolve_checkpoint_path(config.init_from), options);
    }
    std::shared_ptr<const Tokenizer> tokenizer;
    if (source) tokenizer = std::move(source->tokenizer);
    RunData data = prepare_run_data(config, config.out_dir, std::move(tokenizer), !config.resume.empty());
    std::unique_ptr<GPT> model = starting_model(config, data.tokenizer->vocab_size(), source ? &*source : nullptr);
    std::optional<TrainingState> resumed;
    if (source) resumed = std::move(source->training);
    return RunStart{std::move(config), threads, std::move(data), std::move(model), std::move(resumed)};
}

}  // namespace gpt
