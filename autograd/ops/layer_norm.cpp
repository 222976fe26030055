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
// dw/db are summed across rows: each thread accumulates its static block of rows into its own [2C]
// buffer, and the buffers are added in thread order, so results are identical run to run at a fixed
// thread count.
#include <algorithm>

#include <cmath>
#include <vector>

#include "autograd/kernels/kernels.h"
#include "autograd/ops.h"
#include "autograd/ops/parallel.h"
#include "autograd/profile.h"

namespace gpt {

namespace {
// Rows per partial sum of the weight and bias gradients (see the backward).
constexpr int64_t kRowChunk = 32;
}  // namespace

namespace {

void check_param(const Tensor& p, const char* field, int64_t C, const Tensor& x) {
    if (!p.defined()) return;
    check(p.dim() == 1 && p.size(0) == C, "layer_norm",
          std::string(field) + " shape " + shape_str(p.shape()) + " does not match input " + shape_str(x.shape()) +
              " (expected [" + std::to_string(C) + "])");
}

}  // namespace

Tensor layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, float eps) {
    profile::Scope profile_scope("layer_norm");
    check(x.defined() && x.dim() >= 1, "layer_norm", "input must have at least one axis");
    const int64_t C = x.size(-1);
    check(C > 0, "layer_norm", "last axis is empty in " + shape_str(x.shape()));
    check(eps > 0.0f, "layer_norm", "eps must be positive, got " + std::to_string(eps));
    check_param(weight, "weight", C, x);
    check_param(bias, "bias", C, x);
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
        // dw and db sum over all N rows. Rows are taken in fixed chunks of kRowChunk (not one share per
        // thread), each chunk's sums go to its own partial, and the partials are added in chunk order:
        // the same additions in the same order for any thread count.
        const int64_t chunks = (N + kRowChunk - 1) / kRowChunk;
        std::vector<float> partial(static_cast<size_t>(chunks) * 2 * static_cast<size_t>(C), 0.0f);

#pragma omp parallel if (parallel)
        {
#pragma omp for schedule(static)
            for (int64_t chunk = 0; chunk < chunks; ++chunk) {
                float* pw = partial.data() + static_cast<size_t>(chunk) * 2 * static_cast<size_t>(C);
                float* pb = pw + C;
                for (int64_t n = chunk * kRowChunk; n < std::min(N, (chunk + 1) * kRowChunk); ++n) {
                    const float* row = xv + n * C;
                    const float* dout = dy + n * C;
                    const float mn = m[n];
                    const float sn = s[n];
                    float g_mean = 0.0f;
                    float g_norm_mean = 0.0f;
                    for (int64_t c = 0; c < C; ++c) {
                        const float norm = (row[c] - mn) * sn;
                        const float g = (wv ? wv[c] : 1.0f) * dout[c];
                        g_mean += g;
                        g_norm_mean += g * norm;
                        pw[c] += norm * dout[c];
                        pb[c] += dout[c];
                    }
                    g_mean /= static_cast<float>(C);
                    g_norm_mean /= static_cast<float>(C);
                    if (dx) {
                        float* dx_row = dx + n * C;
                        for (int64_t c = 0; c < C; ++c) {
                            const float norm = (row[c] - mn) * sn;
                            const float g = (wv ? wv[c] : 1.0f) * dout[c];
                            const float d = sn * (g - g_mean - norm * g_norm_mean);
                            dx_row[c] = dx_add ? dx_row[c] + d : d;
                        }
                    }
                }
            }
            // Reduce the chunk sums, each column by one thread, adding chunks in order.
#pragma omp for schedule(static)
            for (int64_t c = 0; c < C; ++c) {
                float sw = 0.0f;
                float sb = 0.0f;
                for (int64_t k = 0; k < chunks; ++k) {
                    const float* pk = partial.data() + static_cast<size_t>(k) * 2 * static_cast<size_t>(C);
                    sw += pk[c];
                    sb += pk[C + c];
                }
                if (dw) dw[c] += sw;
                if (db) db[c] += sb;
            }
        }
    });
    return out;
}

}  // namespace gpt
