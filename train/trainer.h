// `gpt train`: the main job. Data → tokenizer → token files → GPT → AdamW, with periodic evaluation,
// metrics.jsonl, atomic checkpoints (ckpt.h5, ckpt_best.h5, optional periodic copies), exact resume,
// Ctrl-C/SIGTERM handling, and a sample of generated text at the end.
//
// Pieces: start_run (train/run_start.h) opens the source checkpoint once and builds or moves the
// model into place; train_step (train/train_step.h) is one optimizer step; the Trainer in trainer.cpp
// runs the loop and hangs logging, evaluation, checkpoints and signals off each step. Stop handlers
// and the profiler are scoped (train/scopes.h): off again on every exit, exceptions included.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "train/config.h"

namespace gpt {

// Exit codes of run_train.
inline constexpr int kExitFinished = 0;
inline constexpr int kExitNonFinite = 4;  // a NaN/Inf loss or gradient stopped the run (last good checkpoint kept)

class TrainingModel;

// What the loop calls out to without depending on it (the report lives above train/, in report/).
struct TrainHooks {
    // Writes the run's report (every report_every steps and at the end) for whatever kind `model` is
    // (its gpt() or encoder_decoder(), train/training_model.h); returns the line to log.
    std::function<std::string(const std::filesystem::path& run_dir, TrainingModel& model, const TrainConfig& config)>
        write_report;
};

// `option_given(name)` says whether the user set the option (command line or config file); on resume,
// the options not given come from the checkpoint's stored config.
// Returns the process exit code: 0 when finished, 128 + signal after a stop request was honoured
// (checkpoint written), kExitNonFinite when stopped by a non-finite gradient.
int run_train(TrainConfig config, const std::function<bool(const std::string&)>& option_given,
              TrainHooks hooks = {});

// Resume: merges the checkpoint's stored config with the options given again; refuses a change to an
// option that shapes the model (naming it) and logs other changes. Exposed for the tests.
TrainConfig resolve_resume_config(const TrainConfig& given_config, const TrainConfig& stored,
                                  const std::function<bool(const std::string&)>& option_given,
                                  std::string* change_log);

}  // namespace gpt
