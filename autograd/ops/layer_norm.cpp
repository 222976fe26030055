// LayerNorm over the last axis, fused: one pass per row forward, one pass per row backward
// (llm.c layernorm_forward/backward).
//
// x [N, C] (leading axes flattened), weight [C], bias [C] (either may be undefined: 1 and 0).
//   mean_n = Σ_c x[n,c] / C
//   rstd_n = 1 / √(Σ_c (x[n,c] − mean_n)² / C + eps)          (biased variance, as PyTorch)
//   norm   = (x − mean)·rstd,  out = norm·weight + bias
// Saved for backward: x's and weight's values, and mean and rstd, 2·N floats; norm is recomputed from x.
// Backward per row, with g = weight ⊙ dout:
//   dx   += rstd·(g − mean_c(g) − norm·mean_c(g ⊙ norm))
//   dw   += Σ_n norm ⊙ dout,   db += Σ_n dout
// The sums over c (mean, variance, mean_c(g), mean_c(g ⊙ norm)) go through 16 fixed partial sums (lane_sum
// in kernels/impl_rows.h: the same bits on every kernel path, and not one latency-bound chain of C adds).
// dw/db are summed across rows in fixed chunks of 32 rows, added in chunk order: the same bits for any
// thread count. Forward and backward loops are per ISA, side by side in autograd/kernels/impl_rows.h.
//
// add_layer_norm, the residual add fused with it: x, y [N, C] (one shape) →
//   sum = x + y,  normed = LayerNorm(sum) as above.
// A pre-norm transformer computes h = x + f(…) and then ln(h) for the next sublayer: separately, the add
// writes h and the LayerNorm reads it back; fused, each row is normalised while it is in L1. Backward,
// the sum's gradient has two parts: dsum, from the sum's other readers (the next residual), and the
// LayerNorm's input gradient from dnormed (the formula above, with x = sum):
//   d  = dsum + rstd·(g − mean_c(g) − norm·mean_c(g ⊙ norm)),   g = weight ⊙ dnormed
//   dx += d,  dy += d,  dw += Σ_n norm ⊙ dnormed,  db += Σ_n dnormed
// one pass that reads sum, dsum and dnormed and writes dx and dy, where LayerNorm's backward wrote dsum
// and the add's read it back twice. The op has two outputs: it records with record_pair (tensor.h), so
// its closure runs once both gradients are complete (either may be absent: nothing read that output).
// Saved: sum's values, weight's, mean and rstd.
#include <cmath>

#include "autograd/kernels/kernels.h"
#include "autograd/ops.h"
#include "autograd/ops/parallel.h"
#include "autograd/profile.h"

namespace gpt {

namespace {

void check_param(const char* op, const Tensor& p, const char* field, int64_t C, const Tensor& x) {
    if (!p.defined()) return;
    check(p.dim() == 1 && p.size(0) == C, op,
          std::string(field) + " shape " + shape_str(p.shape()) + " does not match input " + shape_str(x.shape()) +
              " (expected [" + std::to_string(C) + "])");
}

// The checks both ops make; returns C.
int64_t check_layer_norm(const char* op, const Tensor& x, const Tensor& weight, const Tensor& bias, float eps) {
    check(x.defined() && x.dim() >= 1, op, "input must have at least one axis");
    const int64_t C = x.size(-1);
    check(C > 0, op, "last axis is empty in " + shape_str(x.shape()));
    check(eps > 0.0f, op, "eps must be positive, got " + std::to_string(eps));
    check_param(op, weight, "weight", C, x);
    check_param(op, bias, "bias", C, x);
    return C;
}

}  // namespace

Tensor layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, float eps) {
    profile::Scope profile_scope("layer_norm");
    const int64_t C = check_layer_norm("layer_norm", x, weight, bias, eps);
    const int64_t N = x.numel() / C;

    Tensor out = Tensor::empty(x.shape());
    Tensor mean = Tensor::empty({N});
    Tensor rstd = Tensor::empty({N});
    const float* xs = x.data();
    const float* w = weight.defined() ? weight.data() : nullptr;
    const float* b = bias.defined() ? bias.data() : nullptr;
    float* y = out.data();
    float* mean_out = mean.data();
    float* rstd_out = rstd.data();

    kernels::table().layer_norm_forward(xs, w, b, y, mean_out, rstd_out, N, C, eps);  // per ISA: autograd/kernels

    if (!needs_grad({&x, &weight, &bias})) return out;
    const Tensor w_saved = weight.defined() ? weight.detach() : Tensor();
    record(out, "layer_norm", {x, weight, bias}, [xs = x.detach(), w_saved, mean, rstd, N, C](const Grads& grads) {
        const float* dy = grads.out;
        const float* xv = xs.data();
        const float* wv = w_saved.defined() ? w_saved.data() : nullptr;
        const float* m = mean.data();
        const float* s = rstd.data();
        const GradTarget dx_target = grads.target(0);
        float* const dx = dx_target.data;
        const bool dx_add = !dx_target.assign;
        float* dw = grads.input(1);
        float* db = grads.input(2);
        const bool parallel = N * C >= kParallelMinComputeBound;
        kernels::table().layer_norm_backward(xv, wv, m, s, dy, dx, dx_add, dw, db, N, C, parallel);
    });
    return out;
}

AddNorm add_layer_norm(const Tensor& x, const Tensor& y, const Tensor& weight, const Tensor& bias, float eps) {
    profile::Scope profile_scope("add_layer_norm");
    const int64_t C = check_layer_norm("add_layer_norm", x, weight, bias, eps);
    check(y.defined() && y.shape() == x.shape(), "add_layer_norm",
          "x " + shape_str(x.shape()) + " and y " + (y.defined() ? shape_str(y.shape()) : std::string("(undefined)")) +
              " must have one shape");
    const int64_t N = x.numel() / C;

    AddNorm out{Tensor::empty(x.shape()), Tensor::empty(x.shape())};
    Tensor mean = Tensor::empty({N});
    Tensor rstd = Tensor::empty({N});
    const float* w = weight.defined() ? weight.data() : nullptr;
    const float* b = bias.defined() ? bias.data() : nullptr;
    kernels::table().add_layer_norm_forward(x.data(), y.data(), w, b, out.sum.data(), out.normed.data(), mean.data(),
                                            rstd.data(), N, C, eps);

    if (!needs_grad({&x, &y, &weight, &bias})) return out;
    const Tensor w_saved = weight.defined() ? weight.detach() : Tensor();
    record_pair(out.sum, out.normed, "add_layer_norm", {x, y, weight, bias},
                [ss = out.sum.detach(), w_saved, mean, rstd, N, C](const Grads& grads) {
                    const GradTarget dx = grads.target(0);
                    const GradTarget dy = grads.target(1);
                    // No gradient reached normed: its term is zero, the parameters get nothing.
                    float* dw = grads.second ? grads.input(2) : nullptr;
                    float* db = grads.second ? grads.input(3) : nullptr;
                    const bool parallel = N * C >= kParallelMinComputeBound;
                    kernels::table().add_layer_norm_backward(ss.data(), w_saved.defined() ? w_saved.data() : nullptr,
                                                             mean.data(), rstd.data(), grads.second, grads.out, dx.data,
                                                             !dx.assign, dy.data, !dy.assign, dw, db, N, C, parallel);
                });
    return out;
}

}  // namespace gpt
