// GELU, GPT-2's tanh approximation, in one pass forward and one pass backward (llm.c gelu_forward/backward).
//
//   u      = √(2/π)·(x + 0.044715·x³)
//   gelu   = 0.5·x·(1 + tanh u)  =  x·σ(2u)                    (0.5·(1 + tanh u) = σ(2u))
//   d/dx   = 0.5·(1 + tanh u) + 0.5·x·(1 − tanh² u)·du/dx
//          = σ(2u) + 2·x·σ(2u)·(1 − σ(2u))·du/dx,   du/dx = √(2/π)·(1 + 3·0.044715·x²)
// The σ form is the same function, evaluated without the cancellation of 1 + tanh u ≈ 0 in the negative
// tail (there the tanh form loses ~3 digits in float32); 1 − σ(2u) = e·σ(2u) with e = exp(−2u) likewise.
// exp is fast_math::exp (vectorised; ≈1 ulp; why: bench/RESULTS.md, change 1).
// The backward saves only the input x's values: u is recomputed, which costs less than storing and
// re-reading a second tensor of x's size.
#include <algorithm>
#include <cmath>

#include "autograd/ops.h"
#include "autograd/ops/fast_math.h"
#include "autograd/ops/parallel.h"
#include "autograd/profile.h"

namespace gpt {

namespace {

constexpr float kSqrt2OverPi = 0.7978845608028654f;
constexpr float kCubic = 0.044715f;
// exp(−2u) is clamped below float overflow: past it σ(2u) < 1e-34 and x·σ(2u) is 0 to float precision.
constexpr float kMaxExponent = 80.0f;

}  // namespace

Tensor gelu(const Tensor& x) {
    profile::Scope profile_scope("gelu");
    check(x.defined(), "gelu", "input is undefined");
    const int64_t n = x.numel();
    Tensor out = Tensor::empty(x.shape());
    const float* in = x.data();
    float* y = out.data();
#pragma omp parallel for simd schedule(static) if (n >= kParallelMinComputeBound)
    for (int64_t i = 0; i < n; ++i) {
        const float v = in[i];
        const float u = kSqrt2OverPi * (v + kCubic * v * v * v);
        y[i] = v / (1.0f + fast_math::exp(std::min(-2.0f * u, kMaxExponent)));
    }
    if (needs_grad({&x}))
        record(out, "gelu", {x}, [xv = x.detach(), n](const Grads& g) {
            const float* xs = xv.data();
            const float* dy = g.out;
            float* dx = g.input(0);
            if (!dx) return;
#pragma omp parallel for simd schedule(static) if (n >= kParallelMinComputeBound)
            for (int64_t i = 0; i < n; ++i) {
                const float v = xs[i];
                const float u = kSqrt2OverPi * (v + kCubic * v * v * v);
                const float e = fast_math::exp(std::min(-2.0f * u, kMaxExponent));
                const float sig = 1.0f / (1.0f + e);
                const float du_dx = kSqrt2OverPi * (1.0f + 3.0f * kCubic * v * v);
                dx[i] += dy[i] * (sig + 2.0f * v * sig * (e * sig) * du_dx);
            }
        });
    return out;
}

}  // namespace gpt
