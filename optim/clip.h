// Gradient clipping by global L2 norm, as torch.nn.utils.clip_grad_norm_, and the non-finite check
// that runs before it.
//
//   norm = sqrt(Σ_params Σ_i g_i²)          (double, fixed summation order: same bits for any thread count)
//   coef = max_norm / (norm + 1e-6);  if coef < 1: g ← g·coef     (so the clipped norm is ≈ max_norm)
//
// Parameters without a gradient buffer are left out, as PyTorch leaves out p.grad None.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "autograd/named_tensors.h"

namespace gpt {

// Returns the norm before clipping. max_norm = 0 measures only (nanoGPT's grad_clip = 0: off).
// A non-finite norm is returned with the gradients left untouched (scaling would turn them all into
// NaN); check first_nonfinite_gradient first. Throws std::invalid_argument for a negative or NaN max_norm.
double clip_grad_norm(const NamedTensors& parameters, double max_norm);

// The global L2 norm alone (no clipping). Finite exactly when every gradient is: a float's square is
// finite in double, and so is the sum of any realistic number of them.
double grad_norm(const NamedTensors& parameters);

// The coefficient clip_grad_norm multiplies the gradients by, as a float: max_norm / (norm + 1e-6) when
// that is below 1, else 1 (also for max_norm 0 and a non-finite norm). AdamW::step(scale) applies it
// while it reads the gradients, saving clip_grad_norm's pass over them.
float clip_scale(double norm, double max_norm);

// One gradient's share of the norm: Σ_i g_i² in double, in fixed blocks added in order (grad_norm is the
// square root of these summed over the parameters in list order).
double gradient_sum_of_squares(const float* g, int64_t n);

// gradient_sum_of_squares of every parameter in list order (0 without a gradient), the same doubles,
// computed in one parallel pass over all of them.
std::vector<double> gradient_sums_of_squares(const NamedTensors& parameters);

// The name of the first parameter (in list order) whose gradient holds a NaN or ±Inf; "" when all are finite.
std::string first_nonfinite_gradient(const NamedTensors& parameters);
inline bool all_gradients_finite(const NamedTensors& parameters) { return first_nonfinite_gradient(parameters).empty(); }

}  // namespace gpt
