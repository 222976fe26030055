// Inverted dropout: each element is kept with probability 1 − p and scaled by 1/(1 − p), so the
// expected output equals the input and evaluation needs no rescaling.
//   out = x · mask,  mask_i = [u_i ≥ p] / (1 − p),  u_i ~ U[0, 1) drawn in element order from `generator`
//   backward: dx = g · mask  (the mask, one float per element, is the only saved state)
// Identity when !training or p == 0: returns x itself, draws nothing, records nothing.
#include "autograd/ops.h"
#include "autograd/profile.h"
#include "autograd/ops/parallel.h"

namespace gpt {

Tensor dropout(const Tensor& x, float p, bool training, Generator& generator) {
    profile::Scope profile_scope("dropout");
    check(x.defined(), "dropout", "undefined input");
    check(p >= 0.0f && p < 1.0f, "dropout", "p must be in [0, 1), got " + std::to_string(p));
    if (!training || p == 0.0f) return x;
    const int64_t n = x.numel();
    const float scale = 1.0f / (1.0f - p);
    // The draws are sequential (one generator stream), so the mask does not depend on the thread count.
    Tensor mask = Tensor::empty(x.shape());
    float* m = mask.data();
    for (int64_t i = 0; i < n; ++i) m[i] = generator.uniform() >= p ? scale : 0.0f;
    Tensor out = Tensor::empty(x.shape());
    const float* xd = x.data();
    float* od = out.data();
#pragma omp parallel for schedule(static) if (n >= kParallelMinMemoryBound)
    for (int64_t i = 0; i < n; ++i) od[i] = xd[i] * m[i];
    if (needs_grad({&x}))
        record(out, "dropout", {x}, [mask, n](const Grads& g) {
            const float* mv = mask.data();
            float* gx = g.input(0);
            if (!gx) return;
#pragma omp parallel for schedule(static) if (n >= kParallelMinMemoryBound)
            for (int64_t i = 0; i < n; ++i) gx[i] += g.out[i] * mv[i];
        });
    return out;
}

}  // namespace gpt
