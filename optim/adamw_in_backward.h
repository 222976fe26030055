// The optimizer step fused into backward: AdamW updates each parameter as soon as backward has finished
// its gradient, and the gradient is freed right after, so the gradients of all parameters (4·P bytes)
// never exist at once. GPT-2 124M: 472 MiB of gradients, of which only the tied embedding's (147 MiB,
// the first to receive a contribution and the last to be finished) stays alive through backward.
// PyTorch's "optimizer step in backward" (register_post_accumulate_grad_hook) does the same.
//
// Exact: the same bits as loss.backward() followed by AdamW::step(). Each parameter's update reads only
// its own gradient and moments, so the order of the updates changes nothing; a parameter is updated only
// when every node that reads it has run (autograd/tensor.h, on_gradient_ready), so no closure still to
// run sees an updated weight. What it cannot do, and the training step refuses with it:
//   - clipping: the global norm needs every gradient before the first update;
//   - several micro-batches or ranks: a gradient is complete only after the last micro-batch or the sum
//     across ranks;
//   - taking back a step: a gradient found non-finite half-way leaves the parameters updated before it
//     updated (the run stops; its last checkpoint is intact).
// The gradient norm (before clipping, as always reported) is the same double as grad_norm()'s: each
// gradient's sum of squares is kept and the sums are added in the parameters' order at the end.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "optim/adamw.h"

namespace gpt {

struct AdamWInBackwardResult {
    bool taken = false;             // every parameter updated and the optimizer's step counted
    std::string bad_parameter;      // the first parameter (in backward's order) with a non-finite gradient
    size_t updated = 0;             // parameters updated (all of them when taken)
    double grad_norm = 0.0;         // global L2 norm of the gradient (of the parameters checked)
    std::vector<double> grad_norms;              // per parameter, the optimizer's order (when measured)
    std::vector<AdamWUpdateNorm> update_norms;   // per parameter (when measured)
};

class AdamWInBackward {
public:
    // Installs a hook on each of the optimizer's parameters for the next backward(). `measure` also
    // keeps per-parameter gradient norms and update norms (the trainer's log steps).
    AdamWInBackward(AdamW& optimizer, bool measure);
    ~AdamWInBackward();  // removes the hooks
    AdamWInBackward(const AdamWInBackward&) = delete;
    AdamWInBackward& operator=(const AdamWInBackward&) = delete;

    // After backward(): counts the optimizer's step when every gradient was finite, and reports.
    AdamWInBackwardResult finish();

private:
    void on_ready(size_t k);

    AdamW& optimizer_;
    bool measure_;
    std::vector<double> sums_;  // Σ g² per parameter
    AdamWInBackwardResult result_;
};

}  // namespace gpt
