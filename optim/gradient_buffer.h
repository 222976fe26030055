// All gradients of a model in one flat float buffer, parameters in the optimizer's order:
//   flat = [g(p_0) | g(p_1) | … | g(p_{K-1})],  P = Σ numel(p_k) floats.
// What grad_accum and data-parallel training sum: micro-batch gradients are summed here, in micro-batch
// order, and ranks sum theirs in rank order (dist/communicator.h), so that 2 ranks × 1 micro-batch add
// the same floats in the same order as 1 process × 2 micro-batches. Each micro-batch's backward runs
// into zeroed gradients; adding into gradients that already hold another micro-batch's (as the tape
// does) would round differently when a parameter receives several contributions (tied embeddings).
#pragma once

#include <span>
#include <string>
#include <vector>

#include "autograd/named_tensors.h"

namespace gpt {

class GradientBuffer {
public:
    // flat ← the gradients (first micro-batch) or flat ← flat + the gradients (later ones), element by
    // element; then the gradients are zeroed for the next backward. A parameter without a gradient
    // buffer counts as zeros.
    void take(const NamedTensors& parameters, bool first);
    // The gradients ← flat (parameters without a gradient buffer are left without one).
    void give_back(const NamedTensors& parameters) const;
    // The first parameter (in order) with a NaN or ±Inf in flat; "" when all are finite.
    std::string first_nonfinite(const NamedTensors& parameters) const;
    std::span<float> flat() { return flat_; }

private:
    std::vector<float> flat_;
};

}  // namespace gpt
