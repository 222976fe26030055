// The MLP activations besides GELU's tanh form (gelu.cpp) and ReLU (relu.cpp), forward and backward side by side.
//
// Squared ReLU (So et al., Primer, 2021):
//   y = max(x, 0)²,  dy/dx = 2·max(x, 0)                      (saves x's values)
// SwiGLU (Shazeer, GLU variants, 2020), on the fused c_fc output x [..., 2·D]: a = x[..., :D] (the
// gate), b = x[..., D:] (the value),
//   y = silu(a) ⊙ b,  silu(a) = a·σ(a)                         → [..., D]
//   dL/da = dy ⊙ b ⊙ σ(a)·(1 + a·(1 − σ(a)))                  (silu'(a))
//   dL/db = dy ⊙ silu(a)                                       (saves x's values; σ is recomputed)
// σ(a) = 1 / (1 + e^(−a)) with std::exp: e^(−a) overflows to +inf for a < −88, giving σ = 0, the limit.
// Exact GELU (Hendrycks & Gimpel; BERT's, and PyTorch's F.gelu / "gelu" default, approximate='none'):
//   y = x·Φ(x) = ½·x·(1 + erf(x/√2)),  dy/dx = Φ(x) + x·φ(x),  φ(x) = e^(−x²/2)/√(2π)   (saves x's values)
// Not the tanh form of gelu.cpp: the two differ by up to ~5e-4 (|x| ≈ 2), more than a parity test allows.
#include <cmath>
#include <string>

#include "autograd/ops.h"
#include "autograd/ops/parallel.h"
#include "autograd/profile.h"

namespace gpt {

Tensor relu_squared(const Tensor& x) {
    profile::Scope profile_scope("relu_squared");
    check(x.defined(), "relu_squared", "undefined input");
    Tensor out = Tensor::empty(x.shape());
    const float* xd = x.data();
    float* od = out.data();
    const int64_t n = x.numel();
#pragma omp parallel for schedule(static) if (n >= kParallelMinMemoryBound)
    for (int64_t i = 0; i < n; ++i) {
        const float r = xd[i] > 0.0f ? xd[i] : 0.0f;
        od[i] = r * r;
    }
    if (needs_grad({&x}))
        record(out, "relu_squared", {x}, [xv = x.detach(), n](const Grads& g) {
            const float* xs = xv.data();
            const float* dy = g.out;  // a local pointer: through g the loop would reload it and stay scalar
            const GradTarget dx = g.target(0);  // writes every element: = on a first gradient, else +=
            if (!dx.data) return;
            float* gx = dx.data;
            if (dx.assign) {
#pragma omp parallel for schedule(static) if (n >= kParallelMinMemoryBound)
                for (int64_t i = 0; i < n; ++i) gx[i] = xs[i] > 0.0f ? 2.0f * xs[i] * dy[i] : 0.0f;
            } else {
#pragma omp parallel for schedule(static) if (n >= kParallelMinMemoryBound)
                for (int64_t i = 0; i < n; ++i) gx[i] += xs[i] > 0.0f ? 2.0f * xs[i] * dy[i] : 0.0f;
            }
        });
    return out;
}

Tensor gelu_erf(const Tensor& x) {
    profile::Scope profile_scope("gelu_erf");
    check(x.defined(), "gelu_erf", "undefined input");
    constexpr float kInvSqrt2 = 0.70710678118654752f;
    Tensor out = Tensor::empty(x.shape());
    const float* xd = x.data();
    float* od = out.data();
    const int64_t n = x.numel();
#pragma omp parallel for schedule(static) if (n >= kParallelMinComputeBound)
    for (int64_t i = 0; i < n; ++i) od[i] = 0.5f * xd[i] * (1.0f + std::erf(xd[i] * kInvSqrt2));
    if (needs_grad({&x}))
        record(out, "gelu_erf", {x}, [xv = x.detach(), n](const Grads& g) {
            constexpr float kInvSqrt2Pi = 0.39894228040143268f;  // 1/√(2π)
            const float* xs = xv.data();
            const float* dy = g.out;
            const GradTarget dx = g.target(0);  // writes every element: = on a first gradient, else +=
            if (!dx.data) return;
            float* gx = dx.data;
            const bool assign = dx.assign;
#pragma omp parallel for schedule(static) if (n >= kParallelMinComputeBound)
            for (int64_t i = 0; i < n; ++i) {
                const float v = xs[i];
                const float d = dy[i] * (0.5f * (1.0f + std::erf(v * kInvSqrt2)) + v * kInvSqrt2Pi * std::exp(-0.5f * v * v));
                gx[i] = assign ? d : gx[i] + d;
            }
        });
    return out;
}

Tensor swiglu(const Tensor& x) {
    profile::Scope profile_scope("swiglu");
    const char* op = "swiglu";
    check(x.defined() && x.dim() >= 1, op, "input must have at least one axis");
    const int64_t W = x.size(-1);
    check(W > 0 && W % 2 == 0, op, "last axis must be even (gate and value halves), got " + shape_str(x.shape()));
    const int64_t D = W / 2, N = x.numel() / W;
    Shape shape = x.shape();
    shape.back() = D;
    Tensor out = Tensor::empty(shape);
    const float* xd = x.data();
    float* od = out.data();
#pragma omp parallel for schedule(static) if (N * W >= kParallelMinComputeBound)
    for (int64_t n = 0; n < N; ++n)
        for (int64_t i = 0; i < D; ++i) {
            const float a = xd[n * W + i], b = xd[n * W + D + i];
            const float s = 1.0f / (1.0f + std::exp(-a));
            od[n * D + i] = a * s * b;
        }
    if (needs_grad({&x}))
        record(out, op, {x}, [xv = x.detach(), N, D, W](const Grads& g) {
            const float* xs = xv.data();
            const float* dys = g.out;  // a local pointer, not reloaded through g in the loop
            const GradTarget dx = g.target(0);  // writes every element: = on a first gradient, else +=
            if (!dx.data) return;
            float* gx = dx.data;
            const bool assign = dx.assign;
#pragma omp parallel for schedule(static) if (N * W >= kParallelMinComputeBound)
            for (int64_t n = 0; n < N; ++n)
                for (int64_t i = 0; i < D; ++i) {
                    const float a = xs[n * W + i], b = xs[n * W + D + i], dy = dys[n * D + i];
                    const float s = 1.0f / (1.0f + std::exp(-a));
                    const float da = dy * b * s * (1.0f + a * (1.0f - s)), db = dy * a * s;
                    gx[n * W + i] = assign ? da : gx[n * W + i] + da;
                    gx[n * W + D + i] = assign ? db : gx[n * W + D + i] + db;
                }
        });
    return out;
}

}  // namespace gpt
