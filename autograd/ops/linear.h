// What linear (matmul.cpp) and linear_gelu (linear_gelu.cpp) share (private to autograd/ops/): the shape
// checks and the two gradient products, written once.
#pragma once

#include <cstdint>

#include "autograd/tensor.h"

namespace gpt {

// x [..., in], weight [out, in], bias [out] or undefined: R = the rows of x (all leading axes), and the
// output's shape [..., out]. Throws naming `op` on a mismatch.
struct LinearShape {
    int64_t R, in, out;
    Shape out_shape;
};
LinearShape check_linear(const char* op, const Tensor& x, const Tensor& weight, const Tensor& bias);

// Input 0's and input 1's gradients from dY [R, out]: dX (+)= dY·W (assigned while x has no gradient yet,
// Grads::target), dW += dYᵀ·X. xv and wv are the saved X and W (either undefined when not needed).
void linear_backward_products(const Grads& g, const float* dY, const Tensor& xv, const Tensor& wv, int64_t R,
                              int64_t in, int64_t out_features);

}  // namespace gpt
