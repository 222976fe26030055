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
#include "autograd/kernels/kernels.h"
#include "autograd/profile.h"

namespace gpt {

// The loops live in autograd/kernels/impl_rows.h (one copy per ISA, chosen at run time); exp(−2u) is
// clamped at 80 there, below float overflow: past it σ(2u) < 1e-34 and x·σ(2u) is 0 to float precision.

Tensor gelu(const Tensor& x) {
    profile::Scope profile_scope("gelu");
    check(x.defined(), "gelu", "input is undefined");
    const int64_t n = x.numel();
    Tensor out = Tensor::empty(x.shape());
    const float* in = x.data();
    float* y = out.data();
    kernels::table().gelu_forward(in, y, n);  // autograd/kernels: the loop, per ISA
    if (needs_grad({&x}))
        record(out, "gelu", {x}, [xv = x.detach(), n](const Grads& g) {
            const GradTarget dx = g.target(0);
            if (dx.data) kernels::table().gelu_backward(xv.data(), g.out, dx.data, n, dx.assign);
        });
    return out;
}

}  // namespace gpt
