#include "train/run_start.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <stdexcept>

#include "nn/init.h"
#include "train/encoder_decoder_training.h"
#include "train/gpt_training.h"
#include "train/memory_estimate.h"
#include "train/rank_agreement.h"
#include "train/run_folder.h"
#include "common/threads.h"
#include "train/trainer.h"

namespace gpt {
namespace fs = std::filesystem;

namespace {

// --resume: the config becomes the checkpoint's stored one with the options given again (shape changes
// refused).
void merge_resumed_config(TrainConfig& config, const OptionGiven& option_given, const TrainConfig& stored,
                          const std::string& path, bool leader) {
    std::string changes;
    const std::string resume_option = config.resume;
    const bool overwrite = config.overwrite;  // an action of this command, never a stored option
    config = resolve_resume_config(config, stored, option_given, &changes);
    config.resume = resume_option;
    config.overwrite = overwrite;
    config.init_from.clear();
    if (!option_given("out_dir")) config.out_dir = fs::path(path).parent_path().string();
    if (!changes.empty() && leader) std::fprintf(stderr, "resume: %s\n", changes.c_str());
}

RunCheckpointOptions resume_options(const TrainConfig& config, const OptionGiven& option_given) {
    // A fine-tuning run stores the init_from it started from; resuming it continues from its own
    // checkpoint, so only an init_from given again now is a conflict.
    if (option_given("init_from") && !config.init_from.empty())
        throw std::invalid_argument("resume and init_from cannot be used together");
    RunCheckpointOptions options;
    options.training_state = true;
    if (option_given("dropout")) options.dropout = config.model.dropout;
    return options;
}

// --resume: the checkpoint with its training state, built with the dropout given again (if any).
RunCheckpoint load_resume_source(TrainConfig& config, const OptionGiven& option_given, const std::string& path,
                                    bool leader) {
    RunCheckpoint loaded = load_run_checkpoint(path, resume_options(config, option_given));
    merge_resumed_config(config, option_given, loaded.train_config, path, leader);
    return loaded;
}

// Rebuilds the loaded model with `block_size` positions: every parameter is copied by name; the
// learned position table wpe.weight [block, C] keeps its first block_size rows (a prefix in row-major
// order). Other shapes do not depend on block_size.
void crop_block_size(RunCheckpoint& loaded, int64_t block_size) {
    GPTConfig cropped = loaded.model->config();
    cropped.block_size = block_size;
    auto model = std::make_unique<GPT>(cropped);
    const NamedTensors source = loaded.model->named_parameters();
    for (const auto& [name, tensor] : model->named_parameters()) {
        for (const auto& [source_name, source_tensor] : source)
            if (source_name == name) {
                if (tensor.numel() > source_tensor.numel()) throw std::logic_error("crop_block_size: " + name + " grew");
                std::copy_n(source_tensor.data(), tensor.numel(), tensor.data());
            }
    }
    model->eval();
    loaded.model = std::move(model);
}

// --init_from: a shape option given now that differs from the checkpoint's (`from`) cannot apply to
// loaded weights; refused naming the option and both values.
void refuse_shape_changes(const TrainConfig& config, const TrainConfig& from, const OptionGiven& option_given,
                          const std::string& path) {
    for (const ConfigField& field : config_fields()) {
        if (!field.shapes_model || !option_given(field.name)) continue;
        const std::string wanted = field.to_toml(config), stored = field.to_toml(from);
        if (wanted != stored)
            throw std::invalid_argument("init_from: option " + field.name + " = " + wanted + " differs from " + path +
                                        "'s " + stored + "; a fine-tuned model keeps its checkpoint's shape");
    }
}

// --init_from: the checkpoint's weights, tokenizer and shape start a new run with this run's dropout.
// A shape option given now that differs from the checkpoint's is refused (it cannot apply to loaded
// weights); the config then records the shape actually trained.
RunCheckpoint load_init_source(TrainConfig& config, const OptionGiven& option_given) {
    RunCheckpointOptions options;
    options.dropout = config.model.dropout;
    const std::string path = resolve_checkpoint_path(config.init_from);
    RunCheckpoint loaded = load_run_checkpoint(path, options);
    TrainConfig from = config;
    from.model = loaded.model->config();
    from.model_kind = from.model.kind;  // "gpt" | "bert": a fine-tuned model keeps its family too
    from.model.dropout = config.model.dropout;
    from.tokenizer = loaded.train_config.tokenizer;
    from.vocab_size = loaded.train_config.vocab_size;
    // A shorter context than the checkpoint's keeps its first block_size positions (nanoGPT's
    // crop_block_size): fine-tuning GPT-2's 1024 positions at a CPU-sized 64 or 256.
    if (option_given("block_size") && config.model.block_size < from.model.block_size) {
        crop_block_size(loaded, config.model.block_size);
        from.model.block_size = config.model.block_size;
    }
    refuse_shape_changes(config, from, option_given, path);
    config.model = from.model;
    config.model_kind = from.model_kind;
    config.tokenizer = from.tokenizer;
    config.vocab_size = from.vocab_size;
    return loaded;
}

// --init_from a model = transformer checkpoint: its weights and tokenizer start a new encoder–decoder run
// (fine-tuning on another parallel corpus, read with that tokenizer) with this run's dropout. The model's
// shape is the checkpoint's; a shape option given now that differs is refused, as for a GPT.
EncoderDecoderRunCheckpoint load_encoder_decoder_init(TrainConfig& config, const OptionGiven& option_given) {
    const std::string path = resolve_checkpoint_path(config.init_from);
    RunCheckpointOptions options;
    options.dropout = config.model.dropout;
    EncoderDecoderRunCheckpoint loaded = load_encoder_decoder_run(path, options);
    TrainConfig from = loaded.train_config;
    refuse_shape_changes(config, from, option_given, path);
    const double dropout = config.model.dropout;
    config.model = from.model;
    config.model.dropout = dropout;
    config.model_kind = "transformer";
    const double label_smoothing = config.encoder_decoder.label_smoothing;
    config.encoder_decoder = from.encoder_decoder;
    config.encoder_decoder.label_smoothing = label_smoothing;  // a training option, not the model's
    config.tokenizer = from.tokenizer;
    config.vocab_size = from.vocab_size;
    return loaded;
}

// The model a run starts from: the source checkpoint's (moved, not copied), else a new one with
// GPT-2's initialisation. The memory check runs before the optimizer state is allocated (and, for a
// new model, before the model).
std::unique_ptr<GPT> starting_model(const TrainConfig& config, int64_t vocab_size, RunCheckpoint* source,
                                    bool leader) {
    const GPTConfig model_config = source ? source->model->config() : config.model_config(vocab_size);
    const MemoryEstimate memory = check_training_memory(model_config, config.batch_size, available_memory_bytes(), 0.9,
                                                       config.optimizer_in_backward);
    if (leader) std::fprintf(stderr, "memory: about %s\n", memory.describe(config.batch_size).c_str());
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

// A new run's schedule against its length: min_lr becomes a number (lr / 10 unless given); a warm-up
// that would fill the whole run is cut to a tenth of it (one line in the log; config.toml records the
// warm-up trained, which a resumed run keeps). A cosine decay that ends after the run is only reported:
// a run meant to be resumed for longer sets it so, and changing it would break exact resume.
// A resumed run keeps its stored schedule (changing it now would change the steps already taken).
void fit_schedule_to_run(TrainConfig& config, bool leader) {
    config.min_lr = config.effective_min_lr();
    if (config.lr_schedule == "constant") return;
    if (config.max_iters > 0 && config.warmup_iters >= config.max_iters) {
        const int64_t clamped = config.max_iters / 10;
        if (leader)
            std::fprintf(stderr, "schedule: warmup_iters %lld >= max_iters %lld: warm-up clamped to %lld steps (a tenth "
                         "of the run)\n", static_cast<long long>(config.warmup_iters),
                         static_cast<long long>(config.max_iters), static_cast<long long>(clamped));
        config.warmup_iters = clamped;
    }
    if (config.lr_decay_iters > config.max_iters && leader)
        std::fprintf(stderr, "schedule: lr_decay_iters %lld > max_iters %lld: this run ends before the cosine reaches "
                     "min_lr (resume with --max_iters %lld to finish it)\n", static_cast<long long>(config.lr_decay_iters),
                     static_cast<long long>(config.max_iters), static_cast<long long>(config.lr_decay_iters));
}

}  // namespace

namespace {

// model = transformer: the corpus read with the checkpoint's tokenizer (resume) or a new one; every rank
// reads it itself (the same file, the same tokenizer), so nothing is shared.
std::unique_ptr<TrainingModel> encoder_decoder_model(TrainConfig& config,
                                                     std::optional<EncoderDecoderRunCheckpoint>& source, bool leader) {
    std::shared_ptr<const Tokenizer> tokenizer;
    std::unique_ptr<EncoderDecoder> model;
    if (source) {
        tokenizer = std::move(source->tokenizer);
        model = std::move(source->model);
    }
    EncoderDecoderData data = read_encoder_decoder_data(config, std::move(tokenizer));
    if (config.tokenizer != "bpe") config.vocab_size = data.tokenizer->vocab_size();  // as for model = gpt
    if (leader)
        std::fprintf(stderr, "data: %s: %zu training and %zu held-out examples, %s tokenizer, vocab %d + bos, eos\n",
                     config.data.c_str(), data.examples.train.size(), data.examples.held_out.size(),
                     data.tokenizer->type().c_str(), data.tokenizer->vocab_size());
    // Before the model and the optimizer state are allocated, as for model = gpt (starting_model).
    const MemoryEstimate memory = check_training_memory(config.encoder_decoder_config(data.vocabulary.size()),
                                                        config.batch_size, available_memory_bytes());
    if (leader) std::fprintf(stderr, "memory: about %s\n", memory.describe(config.batch_size).c_str());
    return make_encoder_decoder_training(std::move(data), std::move(model), config);
}

}  // namespace

RunSetup start_run(TrainConfig config, const OptionGiven& option_given, Communicator& comm) {
    const bool leader = comm.rank() == 0;
    std::optional<RunCheckpoint> source;
    std::optional<EncoderDecoderRunCheckpoint> encoder_decoder_source;  // resuming a model = transformer run
    std::string resume_path;
    int64_t resumed_step = 0;
    if (!config.resume.empty()) {
        resume_path = resolve_checkpoint_path(config.resume);
        if (checkpoint_model_kind(resume_path) == "transformer") {
            encoder_decoder_source = load_encoder_decoder_run(resume_path, resume_options(config, option_given));
            merge_resumed_config(config, option_given, encoder_decoder_source->train_config, resume_path, leader);
            resumed_step = encoder_decoder_source->training->progress.iter;
        } else {
            source = load_resume_source(config, option_given, resume_path, leader);
            resumed_step = source->training->progress.iter;
        }
    }
    if (config.resume.empty() && !config.init_from.empty()) {
        const std::string init_path = resolve_checkpoint_path(config.init_from);
        const std::string kind = checkpoint_model_kind(init_path);
        if ((kind == "transformer") != (config.model_kind == "transformer") &&
            (option_given("model") || config.model_kind == "transformer"))
            throw std::invalid_argument("init_from: " + init_path + " is a model = " + kind +
                                        " checkpoint; a model = " + config.model_kind +
                                        " run starts from one of its own kind");
        if (kind == "transformer") encoder_decoder_source = load_encoder_decoder_init(config, option_given);
    }
    config.validate();
    if (config.resume.empty()) fit_schedule_to_run(config, leader);
    check_config_agrees(comm, config);  // before the folder is touched or anything is shared
    const int threads = configure_threads(config.threads, comm.ranks_on_node());
    // Nothing is written into the folder before it is locked and its rules applied (run_folder.h).
    RunFolderLock lock;
    if (leader) {
        lock = RunFolderLock(config.out_dir);
        enter_run_folder({config.out_dir, resume_path, resumed_step, config.overwrite});
    }
    if (config.model_kind == "transformer") {
        std::optional<ResumeState> resumed;
        if (encoder_decoder_source) resumed = std::move(encoder_decoder_source->training);
        std::unique_ptr<TrainingModel> model = encoder_decoder_model(config, encoder_decoder_source, leader);
        return RunSetup{std::move(config), threads, std::move(model), std::move(resumed), std::move(lock)};
    }
    if (!config.init_from.empty()) source = load_init_source(config, option_given);
    std::shared_ptr<const Tokenizer> tokenizer;
    if (source) tokenizer = std::move(source->tokenizer);
    RunTokens data = share_run_data(comm, config.out_dir, [&] {
        return prepare_run_data(config, config.out_dir, std::move(tokenizer), !config.resume.empty());
    });
    // vocab_size is an option of the BPE trainer; for the other tokenizers the vocabulary comes from
    // the text (char) or the files (gpt2), and config.toml and the report record that true size.
    if (config.tokenizer != "bpe") config.vocab_size = data.tokenizer->vocab_size();
    std::unique_ptr<GPT> model =
        starting_model(config, data.tokenizer->vocab_size(), source ? &*source : nullptr, leader);
    std::optional<ResumeState> resumed;
    if (source) resumed = std::move(source->training);
    std::unique_ptr<TrainingModel> training = make_gpt_training(std::move(data), std::move(model), config);
    return RunSetup{std::move(config), threads, std::move(training), std::move(resumed), std::move(lock)};
}

}  // namespace gpt
