// What the ranks of a data-parallel run must agree on besides the gradient sum (train/train_step.h):
// the starting weights, the decisions that end or shape a step, and — checked at every checkpoint —
// that their weights and sampler are still the same. With one process each is the identity and makes
// no MPI call.
#pragma once

#include <cstdint>

#include "autograd/named_tensors.h"
#include "data/batch_sampler.h"
#include "dist/communicator.h"
#include "train/config.h"

namespace gpt {

// Before anything is written or shared: every rank resolved the same training configuration (all of
// it but `threads`, which may differ per machine). Throws RanksDisagree on every rank otherwise, naming
// the first differing option, its value on rank 0 and on the first rank that differs.
void check_config_agrees(Communicator& comm, const TrainConfig& config);

// Rank 0's weights on every rank (a new model is initialised from the same seed everywhere, a resumed
// one read from the same file: this makes it certain, whatever each rank read).
void broadcast_weights(Communicator& comm, const NamedTensors& parameters);

// Rank 0's value of a decision that must be the same on every rank.
bool rank0_decides(Communicator& comm, bool rank0_value);

// A stop request seen by any rank (a signal may reach the ranks at different steps): the highest
// signal number asked on any rank, 0 when none. One tiny all-gather per step.
int agreed_stop_signal(Communicator& comm, int local_signal);

// Throws std::runtime_error naming the first rank whose weights, sampler state or step differ from
// rank 0's (FNV-1a checksums compared), so that a divergence stops the run instead of being saved.
void check_ranks_agree(Communicator& comm, const NamedTensors& parameters, const SamplerState& sampler, int64_t step);

}  // namespace gpt
