// ZeRO-1 (optimizer-state sharding, as llm.c does it), behind --zero1: with N ranks, rank r keeps the
// AdamW moments of only its 1/N of the parameters laid end to end and updates only those elements;
// the updated weights are then all-gathered. The moments take 8·P/N bytes per rank instead of 8·P.
//
//   P parameter elements, S = ⌈P / N⌉;  rank r owns [min(r·S, P), min((r+1)·S, P))
//
// The gradient sum is the full one (every rank holds the summed gradient, so the clipping norm is the
// same everywhere); each owned element gets the same AdamW arithmetic as without sharding, so a run
// with --zero1 is bit-identical to one without, and the checkpoint (full moments, gathered to rank 0)
// is the same file: a run may switch --zero1 on or off when it resumes.
#pragma once

#include <cstdint>

#include "autograd/named_tensors.h"
#include "dist/communicator.h"
#include "optim/adamw.h"

namespace gpt {

AdamWShard zero1_shard(const NamedTensors& parameters, int ranks, int rank);

// After the sharded AdamW step: every rank's owned weights to every rank.
void all_gather_weights(Communicator& comm, const NamedTensors& parameters, const AdamWShard& shard);

// The sharded optimizer's moments of all ranks as one full state (for the checkpoint, written by rank 0).
AdamWState gather_optimizer_state(Communicator& comm, const AdamW& optimizer, const NamedTensors& parameters);

// Per-parameter ‖Δw‖² and ‖w‖² summed over the ranks' owned parts, in rank order (update ratios).
void sum_update_norms(Communicator& comm, std::vector<AdamWUpdateNorm>& norms);

}  // namespace gpt
