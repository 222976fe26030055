// linear then GELU in one op: the MLP's c_fc product with GELU as its epilogue (gelu.cpp gives GELU's
// formulas, matmul.cpp linear's).
//
//   pre = X·Wᵀ + b      [R, out]   (saved for backward)
//   Y   = gelu(pre)     [R, out]
// backward, with dY:
//   dpre = dY ⊙ gelu'(pre),   db += Σ_rows dpre     (one pass: kernels' gelu_backward_columns)
//   dX (+)= dpre·W,           dW += dpreᵀ·X         (linear's products)
//
// Why: a separate gelu reads pre back from memory after the product wrote it ([R, 4C]: 12.6 MB per layer
// at `small`); here each tile of pre goes through GELU while it is in L1 (gemm.h sgemm_gelu), and the
// backward sums db in the pass that writes dpre instead of a second pass reading dpre. The bits are those
// of linear then gelu, forward and backward, on every kernel path (tests/autograd/test_linear_gelu.cpp).
// The MLP uses it unless its pre-activation is asked for as a tensor of its own (gpt serve's activation
// views): then linear and gelu, whose tape has that tensor.
#include "autograd/kernels/kernels.h"
#include "autograd/ops.h"
#include "autograd/ops/gemm.h"
#include "autograd/ops/linear.h"
#include "autograd/ops/parallel.h"
#include "autograd/profile.h"

namespace gpt {

Tensor linear_gelu(const Tensor& x, const Tensor& weight, const Tensor& bias) {
    profile::Scope profile_scope("linear_gelu");
    const LinearShape shape = check_linear("linear_gelu", x, weight, bias);
    const int64_t R = shape.R, in = shape.in, out_features = shape.out;
    Tensor pre = Tensor::empty(shape.out_shape);
    Tensor out = Tensor::empty(shape.out_shape);
    if (R > 0 && out_features > 0)
        sgemm_gelu(false, true, R, out_features, in, x.data(), in, weight.data(), in,
                   bias.defined() ? bias.data() : nullptr, pre.data(), out.data());

    if (needs_grad({&x, &weight, &bias}))
        record(out, "linear_gelu", {x, weight, bias},
               [pre, xv = weight.requires_grad() ? x.detach() : Tensor(),
                wv = x.requires_grad() ? weight.detach() : Tensor(), R, in, out_features](const Grads& g) {
            Tensor dpre = Tensor::empty({R, out_features});
            const bool parallel = R * out_features >= kParallelMinComputeBound;
            kernels::table().gelu_backward_columns(pre.data(), g.out, dpre.data(), g.input(2), R, out_features,
                                                   column_block(out_features), parallel);
            linear_backward_products(g, dpre.data(), xv, wv, R, in, out_features);
        });
    return out;
}

}  // namespace gpt
