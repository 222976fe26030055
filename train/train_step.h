// One optimizer step, and nothing else:
//   lr → zero grads → grad_accum × [batch → forward → loss/grad_accum → backward]
//   → non-finite check → clip (pre-clip norm reported) → AdamW.
// Logging, evaluation, checkpoints and signals live in the trainer (train/trainer.cpp), which calls
// this once per step. Data-parallel training adds one gradient all-reduce between backward and the
// non-finite check (marked in train_step).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/random.h"
#include "data/batch_sampler.h"
#include "nn/gpt.h"
#include "optim/adamw.h"

namespace gpt {

// What a step reads and changes: the model and its parameters, the optimizer, and the two random
// streams the step draws from (batches, dropout).
struct StepState {
    GPT& model;
    const NamedTensors& parameters;  // model.named_parameters(), in the optimizer's order
    AdamW& optimizer;
    BatchSampler& sampler;
    Generator& dropout_generator;
};

struct StepSettings {
    int64_t batch_size = 1;
    int64_t block_size = 1;
    int64_t grad_accum = 1;
    float lr = 0.0f;
    double grad_clip = 0.0;  // 0: no clipping (the norm is still reported)
    bool measure = false;    // fill grad_norms and update_ratios (log steps)
};

using NamedValues = std::vector<std::pair<std::string, double>>;

struct StepResult {
    double loss = 0.0;          // mean training loss over the micro-batches
    std::string nonfinite;      // empty when the step was taken; else what was not finite
    std::string bad_parameter;  // the first parameter with a non-finite gradient ("" if none)
    double grad_norm = 0.0;     // global gradient norm before clipping
    NamedValues grad_norms;     // per parameter, before clipping (when measured)
    NamedValues update_ratios;  // per parameter ‖Δw‖ / ‖w‖ of this step's update (when measured)
    bool taken() const { return nonfinite.empty(); }
};

// A non-finite loss or gradient leaves the weights and the optimizer unchanged (result.nonfinite says
// which); the batches and dropout draws were consumed either way.
StepResult train_step(const StepState& state, const StepSettings& settings);

}  // namespace gpt
