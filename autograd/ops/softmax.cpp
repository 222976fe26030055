// Softmax and log-softmax over the last axis (rows of length C), and the causal mask.
//
// softmax:     y_j = exp(x_j − m) / Σ_k exp(x_k − m),  m = max_k x_k (so exp never overflows)
//              dx_j = y_j · (g_j − Σ_k g_k y_k)
// log_softmax: y_j = x_j − m − log Σ_k exp(x_k − m)
//              dx_j = g_j − exp(y_j) · Σ_k g_k
// Both backward passes read only the output's values, which the closure saves (not x's).
// causal_mask: scores [..., T, T], entry (i, j) with j > i becomes −inf; backward passes g where j ≤ i
// (shapes only: nothing saved).
#include <cmath>
#include <limits>

#include "autograd/ops.h"
#include "autograd/profile.h"
#include "autograd/ops/parallel.h"

namespace gpt {

namespace {

Tensor softmax_impl(const char* op, const Tensor& x, bool log_space) {
    profile::Scope profile_scope(op);
    check(x.defined() && x.dim() >= 1, op, "needs at least 1-D input");
    const int64_t C = x.size(-1);
    const int64_t rows = C ? x.numel() / C : 0;
    Tensor out = Tensor::empty(x.shape());
    const float* xd = x.data();
    float* od = out.data();
#pragma omp parallel for schedule(static) if (x.numel() >= kParallelMinComputeBound)
    for (int64_t r = 0; r < rows; ++r) {
        const float* xr = xd + r * C;
        float* yr = od + r * C;
        float m = -std::numeric_limits<float>::infinity();
        for (int64_t j = 0; j < C; ++j) m = std::max(m, xr[j]);
        if (m == -std::numeric_limits<float>::infinity()) m = 0.0f;  // a fully masked row: avoid −inf − −inf
        float total = 0.0f;
        for (int64_t j = 0; j < C; ++j) {
            const float e = std::exp(xr[j] - m);
            if (!log_space) yr[j] = e;
            total += e;
        }
        if (log_space) {
            const float shift = m + std::log(total);
            for (int64_t j = 0; j < C; ++j) yr[j] = xr[j] - shift;
        } else {
            const float inv = 1.0f / total;
            for (int64_t j = 0; j < C; ++j) yr[j] *= inv;
        }
    }
    if (needs_grad({&x}))
        record(out, op, {x}, [yv = out.detach(), rows, C, log_space](const Grads& grads) {
            const float* g = grads.out;
            const float* y = yv.data();
            float* gx = grads.input(0);
            if (!gx) return;
#pragma omp parallel for schedule(static) if (rows * C >= kParallelMinComputeBound)
            for (int64_t r = 0; r < rows; ++r) {
                const float* gr = g + r * C;
                const float* yr = y + r * C;
                float* gxr = gx + r * C;
                float dot = 0.0f;
                if (log_space) {
                    for (int64_t j = 0; j < C; ++j) dot += gr[j];
                    for (int64_t j = 0; j < C; ++j) gxr[j] += gr[j] - std::exp(yr[j]) * dot;
                } else {
                    for (int64_t j = 0; j < C; ++j) dot += gr[j] * yr[j];
                    for (int64_t j = 0; j < C; ++j) gxr[j] += yr[j] * (gr[j] - dot);
                }
            }
        });
    return out;
}

}  // namespace

Tensor softmax(const Tensor& x) { return softmax_impl("softmax", x, false); }
Tensor log_softmax(const Tensor& x) { return softmax_impl("log_softmax", x, true); }

Tensor causal_mask(const Tensor& scores) {
    check(scores.defined() && scores.dim() >= 2 && scores.size(-1) == scores.size(-2), "causal_mask",
          "needs scores [..., T, T], got " +
              (scores.defined() ? shape_str(scores.shape()) : std::string("undefined")));
    const int64_t T = scores.size(-1);
    const int64_t rows = scores.numel() / (T ? T : 1);  // (matrix, query i) pairs
    Tensor out = Tensor::empty(scores.shape());
    const float* s = scores.data();
    float* od = out.data();
    const float neg_inf = -std::numeric_limits<float>::infinity();
#pragma omp parallel for schedule(static) if (scores.numel() >= kParallelMinMemoryBound)
    for (int64_t r = 0; r < rows; ++r) {
        const int64_t i = r % T;
        for (int64_t j = 0; j < T; ++j) od[r * T + j] = j <= i ? s[r * T + j] : neg_inf;
    }
    if (needs_grad({&scores}))
        record(out, "causal_mask", {scores}, [rows, T](const Grads& grads) {
            const float* g = grads.out;
            float* gs = grads.input(0);
            if (!gs) return;
#pragma omp parallel for schedule(static) if (rows * T >= kParallelMinMemoryBound)
            for (int64_t r = 0; r < rows; ++r) {
                const int64_t i = r % T;
                for (int64_t j = 0; j <= i; ++j) gs[r * T + j] += g[r * T + j];
            }
        });
    return out;
}

}  // namespace gpt
