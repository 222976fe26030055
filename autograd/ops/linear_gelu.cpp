// linear then GELU in one op, the MLP's c_fc, for a backward in fewer passes (gelu.cpp gives GELU's
// formulas, matmul.cpp linear's).
//
//   pre = X·Wᵀ + b      [R, out]   (saved for backward)
//   Y   = gelu(pre)     [R, out]
// backward, with dY:
//   dpre = dY ⊙ gelu'(pre),   db += Σ_rows dpre     (one pass: kernels' gelu_backward_columns)
//   dX (+)= dpre·W,           dW += dpreᵀ·X         (linear's products)
//
// Why: linear's backward sums db with a pass of its own over dpre ([R, 4C]: 25 MB per layer at `small`);
// here the pass that writes dpre adds it (c_fc + GELU backward 92.4 → 89.1 ms per layer at `small`, 1
// thread). GELU as an epilogue of the forward product (each tile of pre through GELU while in L1) was
// built and measured, and did not pay: GELU is bound by its exp and division, not by reading pre back
// (c_fc + GELU forward 37.4 ms unfused, 38.1 ms fused at `small`; docs/kernels.md), so the forward is
// linear's product, then gelu's loop. The bits are those of linear then gelu, forward and backward, on
// every kernel path (tests/autograd/test_linear_gelu.cpp). The MLP uses it unless its pre-activation is
// asked for as a tensor of its own (gpt serve's activation views): then linear and gelu, whose tape has
// that tensor.
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
    if (R > 0 && out_features > 0) {  // linear's forward, then gelu's
        if (bias.defined())
            sgemm_bias(false, true, R, out_features, in, x.data(), in, weight.data(), in, bias.data(), pre.data(),
                       out_features);
        else
            sgemm(false, true, R, out_features, in, x.data(), in, weight.data(), in, 0.0f, pre.data(), out_features);
        kernels::table().gelu_forward(pre.data(), out.data(), pre.numel());
    }

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
