// What a training run starts from: the effective config (a resumed run's stored config merged with the
// options given again), the model of the config's kind with its data and tokenizer (train/training_model.h)
// — new and initialised, or moved out of the checkpoint it was read from (resume, init_from) — and, when
// resuming, the saved training state. The source checkpoint is opened once.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "dist/communicator.h"
#include "train/checkpoint.h"
#include "train/config.h"
#include "train/run_data.h"
#include "train/run_folder.h"
#include "train/training_model.h"

namespace gpt {

using OptionGiven = std::function<bool(const std::string&)>;

struct RunSetup {
    TrainConfig config;  // validated
    int threads = 1;     // as configured (configure_threads)
    std::unique_ptr<TrainingModel> model;  // in train mode, with its data and batch stream
    std::optional<ResumeState> resumed;  // the optimizer moments and progress of a resumed run
    RunFolderLock lock;                    // held until the run ends (train/run_folder.h); rank 0 only
};

// Throws std::invalid_argument (options) or std::runtime_error (files, memory) with one line.
// Data-parallel runs: every rank reads the source checkpoint; rank 0 alone locks and enters the run
// folder and prepares the token files, which the others then map (train/run_data.h); rank 0 alone
// prints. The weights are made equal on every rank by the trainer (broadcast from rank 0).
RunSetup start_run(TrainConfig config, const OptionGiven& option_given, Communicator& comm);

}  // namespace gpt
