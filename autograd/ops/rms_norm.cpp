// RMSNorm over the last axis (Zhang & Sennrich 2019), and the per-head RMSNorm of q and k inside the
// fused qkv tensor (QK-norm), forward and backward side by side.
//
// One segment x of d floats, gain w [d] (undefined: 1), eps > 0:
//   rstd = 1 / √(Σ_i x_i² / d + eps)                 (no mean is subtracted, no bias)
//   norm = x·rstd,  y = norm ⊙ w
// Backward, with g = w ⊙ dy (dy = dL/dy):
//   dx = rstd·(g − norm·mean_i(g ⊙ norm))
//   dw += norm ⊙ dy   (summed over every segment the gain is applied to)
// (dx: ∂rstd/∂x_j = −rstd³·x_j/d, so dx_j = rstd·g_j − x_j·rstd³·Σ_i g_i x_i / d
//      = rstd·(g_j − norm_j·Σ_i g_i norm_i / d).)
// Saved for backward: x's and w's values and rstd per segment; norm is recomputed from x.
// Sums are float, in index order; dw is summed over rows in row order by one thread and dx is split by
// rows, so the bits do not depend on the thread count.
#include <cmath>
#include <memory>
#include <stdexcept>
#include <string>

#include "autograd/ops.h"
#include "autograd/ops/parallel.h"
#include "autograd/profile.h"

namespace gpt {

namespace {

// y = x·rstd ⊙ w over one segment of d floats; returns rstd.
float rms_forward(const float* x, const float* w, float* y, int64_t d, float eps) {
    float sum = 0.0f;
    for (int64_t i = 0; i < d; ++i) sum += x[i] * x[i];
    const float rstd = 1.0f / std::sqrt(sum / static_cast<float>(d) + eps);
    for (int64_t i = 0; i < d; ++i) y[i] = x[i] * rstd * (w ? w[i] : 1.0f);
    return rstd;
}

// dx += rstd·(g − norm·mean(g ⊙ norm)), g = w ⊙ dy, over one segment (the formula above).
void rms_backward_dx(const float* x, const float* w, float rstd, const float* dy, float* dx, int64_t d) {
    float dot = 0.0f;
    for (int64_t i = 0; i < d; ++i) dot += (w ? w[i] : 1.0f) * dy[i] * x[i] * rstd;
    const float mean_dot = dot / static_cast<float>(d);
    for (int64_t i = 0; i < d; ++i) dx[i] += rstd * ((w ? w[i] : 1.0f) * dy[i] - x[i] * rstd * mean_dot);
}

// dw += norm ⊙ dy over one segment.
void rms_backward_dw(const float* x, float rstd, const float* dy, float* dw, int64_t d) {
    for (int64_t i = 0; i < d; ++i) dw[i] += x[i] * rstd * dy[i];
}

void check_gain(const Tensor& w, const char* op, const char* field, int64_t d, const Tensor& x) {
    if (!w.defined()) return;
    check(w.dim() == 1 && w.size(0) == d, op,
          std::string(field) + " shape " + shape_str(w.shape()) + " does not match input " + shape_str(x.shape()) +
              " (expected [" + std::to_string(d) + "])");
}

}  // namespace

Tensor rms_norm(const Tensor& x, const Tensor& weight, float eps) {
    profile::Scope profile_scope("rms_norm");
    const char* op = "rms_norm";
    check(x.defined() && x.dim() >= 1, op, "input must have at least one axis");
    const int64_t C = x.size(-1);
    check(C > 0, op, "last axis is empty in " + shape_str(x.shape()));
    check(eps > 0.0f, op, "eps must be positive, got " + std::to_string(eps));
    check_gain(weight, op, "weight", C, x);
    const int64_t N = x.numel() / C;
    Tensor out = Tensor::empty(x.shape());
    Tensor rstd = Tensor::empty({N});
    const float* xs = x.data();
    const float* w = weight.defined() ? weight.data() : nullptr;
    float* y = out.data();
    float* r = rstd.data();
#pragma omp parallel for schedule(static) if (N * C >= kParallelMinComputeBound)
    for (int64_t n = 0; n < N; ++n) r[n] = rms_forward(xs + n * C, w, y + n * C, C, eps);
    if (!needs_grad({&x, &weight})) return out;
    const Tensor w_saved = weight.defined() ? weight.detach() : Tensor();
    record(out, op, {x, weight}, [xv = x.detach(), w_saved, rstd, N, C](const Grads& g) {
        const float* xd = xv.data();
        const float* wd = w_saved.defined() ? w_saved.data() : nullptr;
        const float* rs = rstd.data();
        if (float* dx = g.input(0)) {
#pragma omp parallel for schedule(static) if (N * C >= kParallelMinComputeBound)
            for (int64_t n = 0; n < N; ++n) rms_backward_dx(xd + n * C, wd, rs[n], g.out + n * C, dx + n * C, C);
        }
        if (float* dw = g.input(1))
            for (int64_t n = 0; n < N; ++n) rms_backward_dw(xd + n * C, rs[n], g.out + n * C, dw, C);
    });
    return out;
}

// QK-norm: the same per segment, a segment being one head of hd floats; the first H heads of a row
// (q) take q_weight, the next H_kv (k) take k_weight, the v heads are copied (dx = dy there).
Tensor qk_rms_norm(const Tensor& qkv, const Tensor& q_weight, const Tensor& k_weight, int64_t n_head,
                   int64_t n_kv_head, float eps) {
    profile::Scope profile_scope("qk_rms_norm");
    const char* op = "qk_rms_norm";
    const AttentionLayout L = [&] {  // checks the shape
        try {
            return attention_layout(qkv, n_head, n_kv_head);
        } catch (const std::invalid_argument& e) {
            throw std::invalid_argument(std::string(op) + ": " + e.what());
        }
    }();
    check(eps > 0.0f, op, "eps must be positive, got " + std::to_string(eps));
    check_gain(q_weight, op, "q_weight", L.hd, qkv);
    check_gain(k_weight, op, "k_weight", L.hd, qkv);
    const int64_t rows = L.B * L.T, W = L.row, hd = L.hd, normed = L.H + L.H_kv;
    Tensor out = Tensor::empty(qkv.shape());
    Tensor rstd = Tensor::empty({rows * normed});
    const float* xs = qkv.data();
    const float* wq = q_weight.defined() ? q_weight.data() : nullptr;
    const float* wk = k_weight.defined() ? k_weight.data() : nullptr;
    float* y = out.data();
    float* r = rstd.data();
    const int64_t H = L.H;
#pragma omp parallel for schedule(static) if (rows * W >= kParallelMinComputeBound)
    for (int64_t n = 0; n < rows; ++n) {
        for (int64_t h = 0; h < normed; ++h)
            r[n * normed + h] = rms_forward(xs + n * W + h * hd, h < H ? wq : wk, y + n * W + h * hd, hd, eps);
        for (int64_t j = normed * hd; j < W; ++j) y[n * W + j] = xs[n * W + j];
    }
    if (!needs_grad({&qkv, &q_weight, &k_weight})) return out;
    const Tensor wq_saved = q_weight.defined() ? q_weight.detach() : Tensor();
    const Tensor wk_saved = k_weight.defined() ? k_weight.detach() : Tensor();
    record(out, op, {qkv, q_weight, k_weight},
           [xv = qkv.detach(), wq_saved, wk_saved, rstd, rows, W, hd, normed, H](const Grads& g) {
               const float* xd = xv.data();
               const float* wqd = wq_saved.defined() ? wq_saved.data() : nullptr;
               const float* wkd = wk_saved.defined() ? wk_saved.data() : nullptr;
               const float* rs = rstd.data();
               const float* dy = g.out;  // a local pointer, not reloaded through g in the loops
               if (float* dx = g.input(0)) {
#pragma omp parallel for schedule(static) if (rows * W >= kParallelMinComputeBound)
                   for (int64_t n = 0; n < rows; ++n) {
                       for (int64_t h = 0; h < normed; ++h) {
                           const int64_t at = n * W + h * hd;
                           rms_backward_dx(xd + at, h < H ? wqd : wkd, rs[n * normed + h], dy + at, dx + at, hd);
                       }
                       for (int64_t j = normed * hd; j < W; ++j) dx[n * W + j] += dy[n * W + j];
                   }
               }
               float* dwq = g.input(1);
               float* dwk = g.input(2);
               for (int64_t n = 0; n < rows; ++n)
                   for (int64_t h = 0; h < normed; ++h) {
                       float* dw = h < H ? dwq : dwk;
                       const int64_t at = n * W + h * hd;
                       if (dw) rms_backward_dw(xd + at, rs[n * normed + h], dy + at, dw, hd);
                   }
           });
    return out;
}

}  // namespace gpt
