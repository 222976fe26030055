// One optimizer step, and nothing else:
//   lr → zero grads → grad_accum × [batch → forward → loss/(ranks·grad_accum) → backward]
//   → (ranks > 1: non-finite check per rank, agreed; gradients summed across ranks in rank order)
//   → gradient norm (reported; non-finite exactly when a gradient is) → AdamW, which applies the clip
//   coefficient as it reads each gradient (one pass over the gradients besides its own); then Muon, when
//   the run has one, for the blocks' matrices (the same clip coefficient).
// Or, with optimizer_in_backward: lr → batch → forward → loss → backward, AdamW updating each parameter
// inside backward as soon as its gradient is complete (same bits, without a full set of gradients).
// Logging, evaluation, checkpoints and signals live in the trainer (train/trainer.cpp), which calls
// this once per step.
//
// Data parallel (N ranks, A = grad_accum): a step is N·A micro-batches k = 0 … N·A−1, drawn in that
// order from one sampler stream that every rank advances alike; rank r computes k = r·A … r·A+A−1 and
// only skips over the others' draws (BatchSampler::skip_batch). The gradient is
//   g = Σ_r Σ_a ∇(loss_{r·A+a} / (N·A)),  summed in that order (optim/gradient_buffer.h)
// so N ranks × grad_accum 1 give the same bits as 1 process × grad_accum N over the same samples.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/random.h"
#include "dist/communicator.h"
#include "optim/adamw.h"
#include "optim/gradient_buffer.h"
#include "optim/muon.h"
#include "train/training_model.h"

namespace gpt {

// What a step reads and changes: the model (with the job's one stream of micro-batches, the same state
// on every rank) and its parameters, the optimizer, and this rank's dropout stream.
struct StepContext {
    TrainingModel& model;
    const NamedTensors& parameters;  // model.module().named_parameters(), in the optimizer's order
    AdamW& optimizer;
    Generator& dropout_generator;  // this rank's
    Communicator& comm;            // the ranks (a single process: rank 0 of 1, no MPI call)
    GradientBuffer& gradients;     // grad_accum > 1 or ranks > 1: where micro-batch gradients are summed
    // optimizer = muon: the blocks' matrices (optim/muon.h), stepped after AdamW, which then holds only
    // the other parameters. Null: AdamW holds them all.
    Muon* muon = nullptr;
};

struct StepSettings {
    int64_t batch_size = 1;
    int64_t block_size = 1;
    int64_t grad_accum = 1;
    float lr = 0.0f;
    float muon_lr = 0.0f;    // Muon's learning rate for this step (with a Muon)
    double grad_clip = 0.0;  // 0: no clipping (the norm is still reported)
    bool measure = false;    // fill grad_norms and update_ratios (log steps)
    bool zero1 = false;      // the optimizer is sharded (train/zero1.h): all-gather the weights after its step
    // AdamW inside backward (optim/adamw_in_backward.h): the gradients never all exist at once. Only with
    // grad_accum 1, one rank and grad_clip 0; a non-finite gradient then cannot be skipped.
    bool optimizer_in_backward = false;
    AdamWShard shard{};      // this rank's range when zero1
};

using NamedValues = std::vector<std::pair<std::string, double>>;

struct StepResult {
    double loss = 0.0;          // mean training loss over the micro-batches of all ranks
    std::string nonfinite;      // empty when the step was taken; else what was not finite (and on which rank)
    std::string bad_parameter;  // the first parameter with a non-finite gradient ("" if none)
    double grad_norm = 0.0;     // global gradient norm before clipping
    NamedValues grad_norms;     // per parameter, before clipping (when measured)
    NamedValues update_ratios;  // per parameter ‖Δw‖ / ‖w‖ of this step's update (when measured)
    double comm_seconds = 0.0;  // time in the gradient sum across ranks, and the ZeRO-1 weight all-gather (0 for one process)
    bool partly_applied = false;  // optimizer_in_backward: some parameters were updated before a non-finite gradient
    bool taken() const { return nonfinite.empty(); }
};

// A non-finite loss or gradient leaves the weights and the optimizer unchanged (result.nonfinite says
// which); the batches and dropout draws were consumed either way. Every rank returns the same result.
StepResult train_step(const StepContext& state, const StepSettings& settings);

}  // namespace gpt
