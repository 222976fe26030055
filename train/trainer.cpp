// The training loop. One optimizer step:
//   lr(step) → zero grads → grad_accum × [batch → forward → loss/grad_accum → backward]
//   → non-finite check → clip (pre-clip norm reported) → AdamW → log / evaluate / checkpoint.
// Everything random (batches, dropout) comes from generators whose states go into the checkpoint, so
// N steps + resume + N steps is bit-identical to 2N steps at the same thread count.
#include "train/trainer.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "autograd/profile.h"
#include "data/batch_sampler.h"
#include "data/token_file.h"
#include "nn/init.h"
#include "optim/adamw.h"
#include "optim/clip.h"
#include "optim/schedule.h"
#include "train/checkpoint.h"
#include "train/evaluate.h"
#include "train/memory_estimate.h"
#include "train/metrics.h"
#include "train/progress.h"
#include "train/report_html.h"
#include "train/run_data.h"
#include "train/sampler_words.h"
#include "train/signals.h"
#include "train/text_sample.h"
#include "train/threads.h"

namespace gpt {
namespace fs = std::filesystem;

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::string fixed(double value, int digits) {
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%.*f", digits, value);
    return buffer;
}

// Per-parameter gradient norms and update-to-weight ratios for the report's gradient-flow view.
std::vector<std::pair<std::string, double>> gradient_norms(const NamedTensors& parameters) {
    std::vector<std::pair<std::string, double>> norms;
    for (const auto& [name, tensor] : parameters) {
        const float* g = tensor.grad();
        double sum = 0.0;
        if (g)
            for (int64_t i = 0; i < tensor.numel(); ++i) sum += static_cast<double>(g[i]) * g[i];
        norms.emplace_back(name, std::sqrt(sum));
    }
    return norms;
}

// ‖w_after − w_before‖ / ‖w_before‖ per parameter: the size of one AdamW update relative to the
// weight (Karpathy's rule of thumb: around 1e-3 is healthy).
std::vector<std::pair<std::string, double>> update_ratios(const NamedTensors& parameters,
                                                          const std::vector<std::vector<float>>& before) {
    std::vector<std::pair<std::string, double>> ratios;
    for (size_t p = 0; p < parameters.size(); ++p) {
        const Tensor& tensor = parameters[p].second;
        double update = 0.0, weight = 0.0;
        for (int64_t i = 0; i < tensor.numel(); ++i) {
            const double w = before[p][static_cast<size_t>(i)];
            const double delta = static_cast<double>(tensor.data()[i]) - w;
            update += delta * delta;
            weight += w * w;
        }
        ratios.emplace_back(parameters[p].first, weight > 0.0 ? std::sqrt(update / weight) : 0.0);
    }
    return ratios;
}

void write_text_file(const fs::path& path, const std::string& text) {
    const fs::path temporary = path.string() + ".tmp";
    {
        std::ofstream out(temporary, std::ios::trunc);
        out << text;
        // Written before the first step: an unwritable run folder is refused here, not at the first save.
        if (!out) throw std::runtime_error(path.string() + ": cannot write: " + std::strerror(errno) +
                                           " (is the run folder writable?)");
    }
    fs::rename(temporary, path);
}

// Warm-up then cosine to min_lr at lr_decay_iters (0: the end of the run), or constant. The decay end
// is never before the warm-up ends, so a short run (--max_iters 50 with warm-up 100) still works.
LrSchedule make_schedule(const TrainConfig& config) {
    if (config.lr_schedule == "constant") return LrSchedule::constant(config.lr);
    const int64_t decay_end = std::max(config.lr_decay_iters > 0 ? config.lr_decay_iters : config.max_iters,
                                       config.warmup_iters);
    return LrSchedule::warmup_cosine(config.lr, config.min_lr, config.warmup_iters, decay_end);
}

}  // namespace

int run_train(TrainConfig config, const std::function<bool(const std::string&)>& option_given) {
    std::string resume_path;
    std::unique_ptr<LoadedCheckpoint> resumed;
    if (!config.resume.empty()) {
        resume_path = resolve_checkpoint_path(config.resume);
        resumed = std::make_unique<LoadedCheckpoint>(load_checkpoint(resume_path));
        if (!resumed->has_training_state)
            throw std::runtime_error(resume_path + ": holds weights only (no /optimizer, /train): use --init_from");
        std::string changes;
        const std::string resume_option = config.resume;
        config = resolve_resume_config(config, resumed->train_config, option_given, &changes);
        config.resume = resume_option;
        if (!option_given("out_dir")) config.out_dir = fs::path(resume_path).parent_path().string();
        if (!changes.empty()) std::fprintf(stderr, "resume: %s\n", changes.c_str());
    }
    config.validate();
    const int threads = configure_threads(config.threads);
    fs::create_directories(config.out_dir);
    const fs::path out_dir = config.out_dir;

    // --- data and tokenizer ---
    std::unique_ptr<LoadedCheckpoint> init_source;
    if (!config.init_from.empty())
        init_source = std::make_unique<LoadedCheckpoint>(load_checkpoint(resolve_checkpoint_path(config.init_from)));
    std::shared_ptr<const Tokenizer> given_tokenizer;
    if (resumed) given_tokenizer = std::move(resumed->tokenizer);
    if (init_source) given_tokenizer = std::move(init_source->tokenizer);
    RunData data = prepare_run_data(config, out_dir, given_tokenizer, resumed != nullptr);
    const Tokenizer& tokenizer = *data.tokenizer;

    // --- model ---
    GPTConfig model_config = config.model_config(tokenizer.vocab_size());
    if (init_source) {
        model_config = init_source->model_config;
        model_config.dropout = static_cast<float>(config.dropout);
    }
    // Refused here, before the model and its optimizer state are allocated.
    const MemoryEstimate memory = check_training_memory(model_config, config.batch_size, available_memory_bytes());
    std::fprintf(stderr, "memory: about %s\n", memory.describe(config.batch_size).c_str());
    GPT model(model_config);
    // Resume and init_from take the weights the checkpoint loader already read (same names and shapes:
    // shape-changing options were refused); a new run draws GPT-2's initialisation.
    if (LoadedCheckpoint* source = resumed ? resumed.get() : init_source.get()) {
        const NamedTensors from = source->model->named_parameters(), to = model.named_parameters();
        check(from.size() == to.size(), "train", "the checkpoint's model has a different parameter list");
        for (size_t i = 0; i < to.size(); ++i) {
            check(from[i].first == to[i].first && from[i].second.shape() == to[i].second.shape(), "train",
                  "checkpoint parameter " + from[i].first + " does not match the model's " + to[i].first);
            std::copy_n(from[i].second.data(), to[i].second.numel(), to[i].second.data());
        }
        source->model.reset();  // one copy of the weights in memory, not two
    } else {
        Generator init_generator(static_cast<uint64_t>(config.seed));
        init_gpt2(model, init_generator);
    }
    model.train();
    const NamedTensors parameters = model.named_parameters();

    AdamWOptions adam_options;
    adam_options.lr = static_cast<float>(config.lr);
    adam_options.beta1 = static_cast<float>(config.beta1);
    adam_options.beta2 = static_cast<float>(config.beta2);
    adam_options.weight_decay = static_cast<float>(config.weight_decay);
    AdamW optimizer(parameters, adam_options);
    const LrSchedule schedule = make_schedule(config);

    // Separate streams: batches, dropout, evaluation (re-seeded per evaluation, so it never moves the others).
    BatchSampler sampler(data.train.tokens(), config.batch_size, config.block_size, static_cast<uint64_t>(config.seed));
    Generator dropout_generator(static_cast<uint64_t>(config.seed) + 1);
    const uint64_t eval_seed = static_cast<uint64_t>(config.seed) + 2;

    TrainProgress progress;
    progress.best_val_loss = std::numeric_limits<double>::infinity();
    if (resumed) {
        progress = load_training_state(resume_path, optimizer);
        dropout_generator.set_state(progress.dropout_rng);
        sampler.set_state(sampler_state_from_words(progress.sampler_state));
    }

    const int64_t ckpt_interval = config.ckpt_interval > 0 ? config.ckpt_interval : config.eval_interval;
    const int64_t tokens_per_step = config.batch_size * config.block_size * config.grad_accum;
    write_text_file(out_dir / "config.toml", config_to_toml(config));
    MetricsLog metrics((out_dir / "metrics.jsonl").string(), progress.iter);

    std::fprintf(stderr,
                 "gpt train: %lld parameters, %d threads, vocab %d (%s), train %lld tokens, val %lld tokens, "
                 "%lld tokens/step, steps %lld..%lld → %s\n",
                 (long long)model.parameter_count(), threads, tokenizer.vocab_size(), tokenizer.type().c_str(),
                 (long long)data.train.size(), (long long)data.val.size(), (long long)tokens_per_step,
                 (long long)progress.iter, (long long)config.max_iters, out_dir.string().c_str());

    auto save = [&](const std::string& why) {
        progress.dropout_rng = dropout_generator.state();
        progress.sampler_state = sampler_state_to_words(sampler.state());
        const fs::path path = out_dir / "ckpt.h5";
        save_checkpoint(path.string(), model, tokenizer, optimizer, config, progress);
        if (config.keep_last > 0 && why == "periodic") {
            char name[64];
            std::snprintf(name, sizeof name, "ckpt_%08lld.h5", (long long)progress.iter);
            fs::copy_file(path, out_dir / name, fs::copy_options::overwrite_existing);
            prune_periodic_checkpoints(out_dir, config.keep_last);
        }
        return path.string();
    };

    ProgressDisplay display(config.max_iters);
    profile::set_enabled(config.profile);
    const int64_t first_step = progress.iter;
    install_stop_handlers();
    const auto start = std::chrono::steady_clock::now();
    auto window_start = start;
    int64_t window_tokens = 0;
    double last_val = std::numeric_limits<double>::quiet_NaN();
    Batch batch;

    while (progress.iter < config.max_iters) {
        const int64_t step = progress.iter;  // 0-based index of the step being taken
        const float lr = static_cast<float>(schedule.lr_at(step));
        optimizer.set_lr(lr);
        optimizer.zero_grad();
        double loss_sum = 0.0;
        for (int64_t micro = 0; micro < config.grad_accum; ++micro) {
            batch = sampler.next_batch();
            const Tensor logits = model.forward(batch.inputs, config.batch_size, config.block_size, dropout_generator);
            Tensor loss = GPT::loss(logits, batch.targets);
            loss_sum += loss.item();
            if (config.grad_accum > 1) loss = mul_scalar(loss, 1.0f / static_cast<float>(config.grad_accum));
            loss.backward();
        }
        const double train_loss = loss_sum / static_cast<double>(config.grad_accum);

        const std::string bad = first_nonfinite_gradient(parameters);
        if (!std::isfinite(train_loss) || !bad.empty()) {
            const std::string what = !std::isfinite(train_loss) ? "the loss is " + fixed(train_loss, 4)
                                                                : "the gradient of " + bad + " is not finite";
            if (config.skip_nonfinite) {
                display.line("step " + std::to_string(step + 1) + ": " + what + "; step skipped (--skip_nonfinite)");
                progress.iter += 1;
                progress.tokens_seen += tokens_per_step;
                continue;
            }
            display.finish();
            std::fprintf(stderr,
                         "error: step %lld: %s (parameter %s); stopping. The last good checkpoint is kept in %s "
                         "(lower lr or use --skip_nonfinite)\n",
                         (long long)(step + 1), what.c_str(), bad.empty() ? "-" : bad.c_str(),
                         (out_dir / "ckpt.h5").string().c_str());
            restore_default_handlers();
            return kExitNonFinite;
        }
        const bool log_now = (step + 1) % config.log_interval == 0 || step + 1 == config.max_iters;
        std::vector<std::pair<std::string, double>> grad_norms;
        std::vector<std::vector<float>> weights_before;
        if (log_now) {
            grad_norms = gradient_norms(parameters);
            for (const auto& [name, tensor] : parameters) weights_before.push_back(tensor.to_vector());
        }
        const double grad_norm = clip_grad_norm(parameters, config.grad_clip);
        optimizer.step();
        progress.iter += 1;
        progress.tokens_seen += tokens_per_step;
        window_tokens += tokens_per_step;

        const bool eval_now = progress.iter % config.eval_interval == 0 || progress.iter == config.max_iters;
        if (eval_now) {
            last_val = estimate_loss(model, data.val.tokens(), config.batch_size, config.block_size, config.eval_iters,
                                     eval_seed);
            if (last_val < progress.best_val_loss) {
                progress.best_val_loss = last_val;
                save_weights((out_dir / "ckpt_best.h5").string(), model, tokenizer, config);
            }
        }
        const double elapsed = seconds_since(start);
        const double window_seconds = std::max(seconds_since(window_start), 1e-9);
        const double tokens_per_s = static_cast<double>(window_tokens) / window_seconds;
        const double steps_left = static_cast<double>(config.max_iters - progress.iter);
        const double eta = steps_left * window_seconds / std::max<double>(1.0, double(window_tokens) / tokens_per_step);
        if (log_now || eval_now) {
            JsonLine line;
            line.add("step", progress.iter).add("tokens_seen", progress.tokens_seen).add("train_loss", train_loss);
            if (eval_now) line.add("val_loss", last_val);
            line.add("lr", static_cast<double>(lr)).add("grad_norm", grad_norm).add("tokens_per_s", tokens_per_s);
            line.add("elapsed_s", elapsed);
            if (log_now) {
                line.add_object("grad_norms", grad_norms);
                line.add_object("update_ratios", update_ratios(parameters, weights_before));
            }
            metrics.write(line);
            std::string text = "step " + std::to_string(progress.iter) + "/" + std::to_string(config.max_iters) +
                               " loss " + fixed(train_loss, 4);
            if (eval_now) text += " val " + fixed(last_val, 4);
            text += " lr " + fixed(lr, 6) + " norm " + fixed(grad_norm, 3) + " " + fixed(tokens_per_s, 0) +
                    " tok/s elapsed " + format_duration(elapsed) + " ETA " + format_duration(eta);
            display.line(text);
            window_start = std::chrono::steady_clock::now();
            window_tokens = 0;
        }
        display.update(progress.iter, train_loss, last_val, tokens_per_s, eta);

        const bool stopping = stop_requested();
        if (progress.iter % ckpt_interval == 0 || progress.iter == config.max_iters || stopping) {
            const std::string path = save(stopping ? "signal" : "periodic");
            if (stopping) {
                display.finish();
                std::fprintf(stderr, "stopped by signal %d after step %lld; checkpoint saved to %s\n"
                             "resume with: gpt train --resume %s\n",
                             stop_signal(), (long long)progress.iter, path.c_str(), out_dir.string().c_str());
                const int code = 128 + stop_signal();
                restore_default_handlers();
                return code;
            }
        }
        if (config.report_every > 0 && progress.iter % config.report_every == 0 && progress.iter < config.max_iters)
            display.line(write_report_or_warn(out_dir, model, tokenizer, config));
    }
    display.finish();
    profile::set_enabled(false);  // the table covers the training steps (and their evaluations) only
    restore_default_handlers();
    if (progress.iter == 0 || !fs::exists(out_dir / "ckpt.h5")) save("final");
    std::fprintf(stderr, "done: %lld steps, best val loss %s, checkpoint %s\n", (long long)progress.iter,
                 std::isfinite(progress.best_val_loss) ? fixed(progress.best_val_loss, 4).c_str() : "-",
                 (out_dir / "ckpt.h5").string().c_str());
    std::fprintf(stderr, "%s\n", write_report_or_warn(out_dir, model, tokenizer, config).c_str());

    if (config.profile) std::fprintf(stderr, "%s", profile::table(progress.iter - first_step).c_str());
    if (config.sample_tokens > 0) print_end_of_training_sample(model, tokenizer, config);
    return kExitFinished;
}

}  // namespace gpt
