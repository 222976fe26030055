// The training loop: start_run (train/run_start.h) loads or builds everything a run starts from, then
// Trainer::run repeats train_step (train/train_step.h) and hangs the rest off each step: metrics and
// log lines, evaluation and the best checkpoint, periodic checkpoints, stop requests, reports.
// Everything random (batches, dropout) comes from generators whose states go into the checkpoint, so
// N steps + resume + N steps is bit-identical to 2N steps, at any thread count.
//
// Data-parallel runs (mpirun -np N gpt train): every rank runs this loop on its own full copy of the
// model; train_step sums the gradients across ranks, so the weights stay identical (checked at every
// checkpoint). Rank 0 alone prints, evaluates, writes metrics, checkpoints and reports; the stop
// decision is agreed every step, so all ranks stop after the same step.
#include "train/trainer.h"
#include "train/optimizer_setup.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>


#include "autograd/profile.h"
#include "common/memory.h"
#include "common/text.h"
#include "dist/communicator.h"
#include "io/atomic_write.h"
#include "optim/adamw.h"
#include "optim/schedule.h"
#include "train/checkpoint.h"
#include "train/metrics.h"
#include "train/progress.h"
#include "train/rank_agreement.h"
#include "train/run_folder.h"
#include "train/run_start.h"
#include "train/scopes.h"
#include "train/train_step.h"
#include "train/training_model.h"
#include "train/zero1.h"

namespace gpt {
namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

// --skip_nonfinite gives up after this many skipped steps in a row (exit 4, last good checkpoint kept).
constexpr int64_t kMaxConsecutiveSkips = 100;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

void write_text_file(const fs::path& path, const std::string& text) {
    try {
        write_bytes_atomically(path.string(), text);
    } catch (const std::runtime_error& e) {
        throw std::runtime_error(std::string(e.what()) + " (is the run folder writable?)");
    }
}

// Tokens per second over the steps since the last log line, and the time left at that pace.
struct Throughput {
    double tokens_per_s = 0.0;
    double eta_s = 0.0;
};

class Trainer {
public:
    Trainer(RunSetup start, TrainHooks hooks, Communicator& comm);
    int run();  // the process exit code (trainer.h)

private:
    void print_banner(int threads) const;
    void restore_dropout_stream(const TrainProgress& saved);
    StepSettings step_settings(int64_t step, bool measure) const;
    int64_t tokens_in_step(int64_t step) const;
    std::optional<int> skip_step(int64_t step, const StepResult& result);
    std::string last_good_checkpoint() const;
    StepResult guarded_step(const StepSettings& settings);
    int stop_nonfinite(int64_t step, const StepResult& result);
    std::optional<int> after_step(const StepResult& result, float lr, bool log_now);
    void evaluate();
    Throughput throughput() const;
    void record(const StepResult& result, float lr, bool log_now, bool eval_now);
    std::string save(bool periodic);
    int stop_after_signal(const std::string& checkpoint, int signal);
    int finish(int64_t first_step);
    std::string report();
    bool has_report_hook() const { return static_cast<bool>(hooks_.write_report); }

    RunFolderLock lock_;  // first in, last out: held while anything below writes into the folder
    Communicator& comm_;
    bool leader_;  // rank 0: the one that prints and writes
    TrainConfig config_;
    TrainHooks hooks_;
    fs::path out_dir_;
    std::unique_ptr<TrainingModel> model_;  // the model of the config's kind, its data and batch stream
    const Tokenizer& tokenizer_;
    NamedTensors parameters_;
    OptimizerGroups groups_;  // AdamW's parameters and, with optimizer = muon, Muon's
    bool zero1_;        // --zero1 with more than one rank
    AdamWShard shard_;  // this rank's range of the parameters when zero1_ (train/zero1.h)
    AdamW optimizer_;
    std::optional<Muon> muon_;  // optimizer = muon
    LrSchedule schedule_;
    // Separate streams: batches (model_'s), dropout, evaluation (re-seeded per evaluation, so it never
    // moves the others).
    Generator dropout_generator_;  // this rank's
    GradientBuffer gradients_;     // micro-batch and cross-rank sums (optim/gradient_buffer.h)
    uint64_t eval_seed_;
    TrainProgress progress_;
    std::optional<MetricsLog> metrics_;  // opened once the resumed step is known
    int64_t tokens_per_step_;
    int64_t ckpt_interval_;
    double last_val_ = std::numeric_limits<double>::quiet_NaN();
    std::string last_sample_;  // the text sampled at the last evaluation (config.eval_sample_tokens)
    ProgressDisplay display_;
    Clock::time_point start_time_, window_start_;
    double start_cpu_s_ = 0.0;  // process CPU seconds when the loop started
    int64_t window_tokens_ = 0;
    double window_eval_s_ = 0.0, last_eval_s_ = 0.0;  // evaluation time in this log window, of the last one
    double window_comm_s_ = 0.0;                      // gradient sum across ranks in this log window
    double training_peak_mib_ = 0.0;  // peak resident memory before the first checkpoint write (steps only)
    int64_t consecutive_skips_ = 0;
    bool nothing_left_ = false;  // resumed at (or past) max_iters: run() says so and takes no step
};

// Rank r's dropout stream: rank 0's is the single process's (seed + 1), the others' are distinct.
uint64_t dropout_seed(int64_t seed, int rank) {
    // Not a multiple of splitmix64's increment (the golden ratio): that would give a shifted copy of
    // rank 0's seed words.
    return static_cast<uint64_t>(seed) + 1 + 0xD1B54A32D192ED03ull * static_cast<uint64_t>(rank);
}

Trainer::Trainer(RunSetup start, TrainHooks hooks, Communicator& comm)
    : lock_(std::move(start.lock)),
      comm_(comm),
      leader_(comm.rank() == 0),
      config_(std::move(start.config)),
      hooks_(std::move(hooks)),
      out_dir_(config_.out_dir),
      model_(std::move(start.model)),
      tokenizer_(model_->tokenizer()),
      parameters_(model_->module().named_parameters()),
      groups_(optimizer_groups(config_, parameters_)),
      zero1_(config_.zero1 && comm.size() > 1),
      shard_(zero1_ ? zero1_shard(groups_.adamw, comm.size(), comm.rank()) : AdamWShard{}),
      optimizer_(groups_.adamw, adamw_options(config_), shard_),
      schedule_(make_schedule(config_)),
      dropout_generator_(dropout_seed(config_.seed, comm.rank())),
      eval_seed_(static_cast<uint64_t>(config_.seed) + 2),
      tokens_per_step_(comm.size() * config_.batch_size * model_->positions_per_sequence() * config_.grad_accum),
      ckpt_interval_(config_.ckpt_interval > 0 ? config_.ckpt_interval : config_.eval_interval),
      display_(config_.max_iters, !leader_) {
    progress_.best_val_loss = std::numeric_limits<double>::infinity();
    if (config_.optimizer_in_backward && comm.size() > 1)
        throw std::invalid_argument("optimizer_in_backward needs one process (the gradients are summed across ranks "
                                    "before any update), got " + std::to_string(comm.size()) + " ranks");
    if (config_.optimizer == "muon") muon_.emplace(groups_.muon, muon_options(config_));
    if (start.resumed) {
        try {  // the state was validated on load; what still does not fit this run names the checkpoint
            if (start.resumed->muon.has_value() != muon_.has_value())
                throw std::runtime_error(std::string("the checkpoint was written with optimizer ") +
                                         (start.resumed->muon ? "muon" : "adamw") + ", this run asks for " +
                                         config_.optimizer + "; start a new run (or --init_from)");
            if (muon_) muon_->load_state(std::move(*start.resumed->muon));
            optimizer_.load_state(std::move(start.resumed->optimizer));
            progress_ = start.resumed->progress;
            restore_dropout_stream(progress_);
            model_->set_batch_state(progress_.sampler);
        } catch (const std::exception& e) {
            throw std::runtime_error(resolve_checkpoint_path(config_.resume) + ": " + e.what());
        }
    }
    broadcast_weights(comm_, parameters_);
    nothing_left_ = start.resumed && progress_.iter >= config_.max_iters;
    if (!leader_ || nothing_left_) return;
    write_text_file(out_dir_ / "config.toml", config_to_toml(config_));
    metrics_.emplace((out_dir_ / "metrics.jsonl").string(), progress_.iter);
    print_banner(start.threads);
}

// This rank's dropout generator from a checkpoint; written by another number of ranks, the ranks it
// had keep theirs and new ones start fresh streams (one warning: the run is no longer the one the
// checkpoint's ranks would have continued).
void Trainer::restore_dropout_stream(const TrainProgress& saved) {
    const size_t rank = static_cast<size_t>(comm_.rank());
    if (rank < saved.rank_dropout_rng.size()) dropout_generator_.set_state(saved.rank_dropout_rng[rank]);
    else if (rank == 0) dropout_generator_.set_state(saved.dropout_rng);
    if (saved.ranks != comm_.size() && leader_)
        std::fprintf(stderr, "warning: resuming with %d rank%s a checkpoint written by %lld: the effective batch, the "
                     "data order and the dropout streams change (exact resume needs the same number of ranks)\n",
                     comm_.size(), comm_.size() == 1 ? "" : "s", (long long)saved.ranks);
}

void Trainer::print_banner(int threads) const {
    std::string ranks;
    if (comm_.size() > 1)
        ranks = std::to_string(comm_.size()) + " ranks × " + std::to_string(threads) + " threads, effective batch " +
                std::to_string(comm_.size()) + "×" + std::to_string(config_.batch_size) + "×" +
                std::to_string(config_.grad_accum) + " = " +
                std::to_string(comm_.size() * config_.batch_size * config_.grad_accum) + " sequences, ";
    else
        ranks = std::to_string(threads) + " threads, ";
    ranks += describe_optimizer_state(groups_, muon_.has_value(), comm_.size(), zero1_);
    std::fprintf(stderr,
                 "gpt train: %s%lld parameters, %svocab %d (%s), %s, "
                 "%lld tokens/step, steps %lld..%lld → %s\n",
                 config_.model_kind == "gpt" ? "" : ("model " + config_.model_kind + ", ").c_str(),
                 (long long)model_->module().parameter_count(), ranks.c_str(), tokenizer_.vocab_size(),
                 tokenizer_.type().c_str(), model_->data_summary().c_str(), (long long)tokens_per_step_,
                 (long long)progress_.iter, (long long)config_.max_iters, out_dir_.string().c_str());
}

// Steps until max_iters, a stop request or a non-finite step; the profiler and the stop handlers are
// on for exactly this loop (scope guards: also when a save throws).
int Trainer::run() {
    const int64_t first_step = progress_.iter;
    if (nothing_left_) {
        if (leader_)
            std::fprintf(stderr, "nothing left to do: run is at step %lld %s max_iters %lld; raise --max_iters to continue\n",
                         (long long)first_step, first_step == config_.max_iters ? "=" : ">", (long long)config_.max_iters);
        return kExitFinished;
    }
    {
        const ProfilingScope profiling(config_.profile);
        const StopHandlersScope stop_handlers;
        start_time_ = window_start_ = Clock::now();
        start_cpu_s_ = process_cpu_seconds();
        while (progress_.iter < config_.max_iters) {
            const int64_t step = progress_.iter;  // 0-based index of the step being taken
            const bool log_now = (step + 1) % config_.log_interval == 0 || step + 1 == config_.max_iters;
            const StepSettings settings = step_settings(step, log_now);
            const StepResult result = guarded_step(settings);
            if (!result.taken()) {
                if (!config_.skip_nonfinite || result.partly_applied) return stop_nonfinite(step, result);
                if (const std::optional<int> exit_code = skip_step(step, result)) return *exit_code;
                continue;
            }
            consecutive_skips_ = 0;
            if (const std::optional<int> exit_code = after_step(result, settings.lr, log_now)) return *exit_code;
        }
        display_.finish();
    }  // the profile table covers the training steps (and their evaluations) only
    return finish(first_step);
}

// What hangs off a step that was taken: counters, evaluation, the metrics record and log line, the
// checkpoint, a stop request, the periodic report. Returns the exit code when the run stops here.
std::optional<int> Trainer::after_step(const StepResult& result, float lr, bool log_now) {
    const int64_t tokens = tokens_in_step(progress_.iter);
    progress_.iter += 1;
    progress_.tokens_seen += tokens;
    window_tokens_ += tokens;
    window_comm_s_ += result.comm_seconds;

    const bool eval_now = progress_.iter % config_.eval_interval == 0 || progress_.iter == config_.max_iters;
    if (eval_now && leader_) evaluate();
    if (leader_) record(result, lr, log_now, eval_now);

    const int stop = agreed_stop_signal(comm_, stop_signal());
    if (progress_.iter % ckpt_interval_ == 0 || progress_.iter == config_.max_iters || stop != 0) {
        const std::string checkpoint = save(stop == 0);
        if (stop != 0) return stop_after_signal(checkpoint, stop);
    }
    if (leader_ && has_report_hook() && config_.report_every > 0 && progress_.iter % config_.report_every == 0 &&
        progress_.iter < config_.max_iters)
        display_.line(report());
    return std::nullopt;
}

// The tokens step `step` trains on: fewer while the sequence length warms up.
int64_t Trainer::tokens_in_step(int64_t step) const {
    return tokens_per_step_ / config_.model.block_size *
           sequence_length_at(step, config_.seq_warmup_start, config_.model.block_size, config_.seq_warmup_iters);
}

StepSettings Trainer::step_settings(int64_t step, bool measure) const {
    StepSettings settings;
    settings.batch_size = config_.batch_size;
    settings.block_size = sequence_length_at(step, config_.seq_warmup_start, config_.model.block_size,
                                             config_.seq_warmup_iters);
    settings.grad_accum = config_.grad_accum;
    settings.lr = static_cast<float>(schedule_.lr_at(step));
    settings.muon_lr = static_cast<float>(schedule_.lr_at(step) * (config_.muon_lr / config_.lr));
    settings.grad_clip = config_.grad_clip;
    settings.measure = measure;
    settings.zero1 = zero1_;
    settings.shard = shard_;
    settings.optimizer_in_backward = config_.optimizer_in_backward;
    return settings;
}

// A skipped step moves the step counter and the data on, not the weights. Like every other path through
// the loop it honours a stop request (the checkpoint then holds the last good weights); a long run of
// skips means training has diverged for good, and saving that as "done" would hide it.
std::optional<int> Trainer::skip_step(int64_t step, const StepResult& result) {
    display_.line("step " + std::to_string(step + 1) + ": " + result.nonfinite + "; step skipped (--skip_nonfinite)");
    progress_.tokens_seen += tokens_in_step(progress_.iter);
    progress_.iter += 1;
    if (const int stop = agreed_stop_signal(comm_, stop_signal())) return stop_after_signal(save(false), stop);
    if (++consecutive_skips_ >= kMaxConsecutiveSkips) {
        display_.finish();
        if (leader_) std::fprintf(stderr,
                     "error: step %lld: %lld steps in a row had non-finite gradients and were skipped; stopping. "
                     "%s (lower lr)\n",
                     (long long)(step + 1), (long long)consecutive_skips_, last_good_checkpoint().c_str());
        return kExitNonFinite;
    }
    return std::nullopt;
}

// One step; running out of memory in it names the options that size it (the memory estimate at start
// leaves room, but other processes may take it meanwhile).
StepResult Trainer::guarded_step(const StepSettings& settings) {
    try {
        return train_step({*model_, parameters_, optimizer_, dropout_generator_, comm_, gradients_,
                           muon_ ? &*muon_ : nullptr},
                          settings);
    } catch (const std::bad_alloc& e) {
        throw std::runtime_error("out of memory in training step " + std::to_string(progress_.iter + 1) + " (" +
                                 e.what() + "); lower batch_size or block_size (grad_accum keeps the tokens per "
                                 "step). " + last_good_checkpoint());
    }
}

std::string Trainer::last_good_checkpoint() const {
    const fs::path path = out_dir_ / "ckpt.h5";
    return fs::exists(path) ? "The last good checkpoint is kept in " + path.string()
                            : std::string("No checkpoint was written yet");
}

int Trainer::stop_nonfinite(int64_t step, const StepResult& result) {
    display_.finish();
    if (leader_) std::fprintf(stderr,
                 "error: step %lld: %s (parameter %s); stopping. %s (%s)\n",
                 (long long)(step + 1), result.nonfinite.c_str(),
                 result.bad_parameter.empty() ? "-" : result.bad_parameter.c_str(), last_good_checkpoint().c_str(),
                 result.partly_applied ? "lower lr; --skip_nonfinite can skip such a step only without optimizer_in_backward"
                                       : "lower lr or use --skip_nonfinite");
    return kExitNonFinite;
}

// Validation loss on fixed batches; a new best writes ckpt_best.h5 (weights only).
void Trainer::evaluate() {
    const Clock::time_point start = Clock::now();
    struct AddTime {  // evaluation time is reported on its own, never counted as training time
        Clock::time_point start;
        double& window, &last;
        ~AddTime() { window += last = seconds_since(start); }
    } timing{start, window_eval_s_, last_eval_s_};
    last_val_ = model_->validation_loss(config_, eval_seed_);
    last_sample_ = model_->evaluation_sample(config_, progress_.iter);
    if (last_val_ < progress_.best_val_loss) {
        progress_.best_val_loss = last_val_;
        model_->save_weights((out_dir_ / "ckpt_best.h5").string(), config_);
    }
}

Throughput Trainer::throughput() const {
    // tokens/s over the training steps alone; the ETA over wall time, evaluations included.
    const double window_seconds = std::max(seconds_since(window_start_), 1e-9);
    const double training_seconds = std::max(window_seconds - window_eval_s_, 1e-9);
    const double steps_in_window = std::max<double>(1.0, double(window_tokens_) / double(tokens_per_step_));
    Throughput t;
    t.tokens_per_s = static_cast<double>(window_tokens_) / training_seconds;
    t.eta_s = static_cast<double>(config_.max_iters - progress_.iter) * window_seconds / steps_in_window;
    return t;
}

// A metrics.jsonl record and a log line on log and evaluation steps; the live display every step.
void Trainer::record(const StepResult& result, float lr, bool log_now, bool eval_now) {
    const double elapsed = seconds_since(start_time_);
    const Throughput pace = throughput();
    if (log_now || eval_now) {
        JsonLine line;
        line.add("step", progress_.iter).add("tokens_seen", progress_.tokens_seen).add("train_loss", result.loss);
        if (eval_now) line.add("val_loss", last_val_).add("eval_s", last_eval_s_);
        if (eval_now && !last_sample_.empty()) line.add("sample", last_sample_);
        line.add("lr", static_cast<double>(lr)).add("grad_norm", result.grad_norm).add("tokens_per_s", pace.tokens_per_s);
        line.add("elapsed_s", elapsed).add("cpu_s", process_cpu_seconds() - start_cpu_s_);
        if (comm_.size() > 1) line.add("ranks", int64_t(comm_.size())).add("comm_s", window_comm_s_);
        if (log_now) {
            line.add_object("grad_norms", result.grad_norms);
            line.add_object("update_ratios", result.update_ratios);
        }
        metrics_->write(line);
        std::string text = "step " + std::to_string(progress_.iter) + "/" + std::to_string(config_.max_iters) +
                           " loss " + format_fixed(result.loss, 4);
        if (eval_now) text += " val " + format_fixed(last_val_, 4);
        text += " lr " + format_fixed(lr, 6) + " norm " + format_fixed(result.grad_norm, 3) + " " + format_fixed(pace.tokens_per_s, 0) +
                " tok/s elapsed " + format_duration(elapsed) + " ETA " + format_duration(pace.eta_s);
        if (comm_.size() > 1) text += " comm " + format_fixed(1000.0 * window_comm_s_, 1) + " ms";
        display_.line(text);
        window_start_ = Clock::now();
        window_tokens_ = 0;
        window_eval_s_ = 0.0;
        window_comm_s_ = 0.0;
    }
    display_.update(progress_.iter, result.loss, last_val_, pace.tokens_per_s, pace.eta_s);
}

// ckpt.h5 (atomically), plus a ckpt_<step>.h5 copy for periodic saves when --keep_last asks.
// Data-parallel: every rank calls this (its dropout stream goes into the file; the ranks are checked
// to agree); rank 0 writes.
std::string Trainer::save(bool periodic) {
    if (training_peak_mib_ == 0.0) training_peak_mib_ = peak_resident_mib();
    check_ranks_agree(comm_, parameters_, model_->batch_state(), progress_.iter);
    progress_.rank_dropout_rng = gather_values(comm_, dropout_generator_.state());
    progress_.ranks = comm_.size();
    progress_.dropout_rng = progress_.rank_dropout_rng.front();
    progress_.sampler = model_->batch_state();
    const fs::path path = out_dir_ / "ckpt.h5";
    if (zero1_) {  // the full moments, gathered from the ranks' shards into an unsharded AdamW
        AdamWState state = gather_optimizer_state(comm_, optimizer_, groups_.adamw);
        if (!leader_) return path.string();
        AdamW full(groups_.adamw, optimizer_.options());
        full.load_state(std::move(state));
        model_->save_checkpoint(path.string(), full, muon_ ? &*muon_ : nullptr, config_, progress_);
    } else {
        if (!leader_) return path.string();
        model_->save_checkpoint(path.string(), optimizer_, muon_ ? &*muon_ : nullptr, config_, progress_);
    }
    if (config_.keep_last > 0 && periodic) {
        char name[64];
        std::snprintf(name, sizeof name, "ckpt_%08lld.h5", (long long)progress_.iter);
        fs::copy_file(path, out_dir_ / name, fs::copy_options::overwrite_existing);
        prune_periodic_checkpoints(out_dir_, config_.keep_last);
    }
    return path.string();
}

int Trainer::stop_after_signal(const std::string& checkpoint, int signal) {
    display_.finish();
    if (leader_)
        std::fprintf(stderr, "stopped by signal %d after step %lld; checkpoint saved to %s\n"
                     "resume with: gpt train --resume %s\n",
                     signal, (long long)progress_.iter, checkpoint.c_str(), out_dir_.string().c_str());
    return 128 + signal;
}

// After the last step: a checkpoint if none was written, the summary, the report, the profile table
// and a sample of generated text.
int Trainer::finish(int64_t first_step) {
    if (rank0_decides(comm_, progress_.iter == 0 || !fs::exists(out_dir_ / "ckpt.h5"))) save(false);
    if (!leader_) return kExitFinished;
    std::fprintf(stderr, "done: %lld steps, best val loss %s, checkpoint %s\n", (long long)progress_.iter,
                 std::isfinite(progress_.best_val_loss) ? format_fixed(progress_.best_val_loss, 4).c_str() : "-",
                 (out_dir_ / "ckpt.h5").string().c_str());
    if (comm_.size() > 1)
        std::fprintf(stderr, "ranks: %d, weights identical on every rank (checked at each checkpoint); rank 0's peak "
                     "resident memory %.1f MiB in the steps, %.1f MiB with the checkpoint writes\n", comm_.size(),
                     training_peak_mib_, peak_resident_mib());
    if (has_report_hook()) std::fprintf(stderr, "%s\n", report().c_str());
    if (config_.profile) std::fprintf(stderr, "%s", profile::table(progress_.iter - first_step).c_str());
    model_->print_final_sample(config_);
    return kExitFinished;
}

}  // namespace

std::string Trainer::report() { return hooks_.write_report(out_dir_, *model_, config_); }

int run_train(TrainConfig config, const std::function<bool(const std::string&)>& option_given, TrainHooks hooks) {
    const std::unique_ptr<Communicator> comm = connect_processes();
    if (comm->size() == 1) {
        Trainer trainer(start_run(std::move(config), option_given, *comm), std::move(hooks), *comm);
        return trainer.run();
    }
    // A rank that fails alone would leave the others waiting in a collective: the job ends with it.
    // An error every rank raised alike (RanksDisagree) is said once, and the ranks end together.
    try {
        Trainer trainer(start_run(std::move(config), option_given, *comm), std::move(hooks), *comm);
        return trainer.run();
    } catch (const RanksDisagree& e) {
        if (comm->rank() == 0) std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "error: rank %d: %s\n", comm->rank(), e.what());
        std::fflush(stderr);
        comm->abort(1);
    }
    return 1;  // not reached: abort ends the process
}

}  // namespace gpt
