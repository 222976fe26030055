// ReLU: out = max(x, 0); backward dx = g·[out > 0]: the output's values are saved as the mask, x's are not.
#include "autograd/ops.h"
#include "autograd/ops/parallel.h"

namespace gpt {

Tensor relu(const Tensor& x) {
    check(x.defined(), "relu", "undefined input");
    Tensor out = Tensor::empty(x.shape());
    const float* xd = x.data();
    float* od = out.data();
    const int64_t n = x.numel();
#pragma omp parallel for schedule(static) if (n >= kParallelMinMemoryBound)
    for (int64_t i = 0; i < n; ++i) od[i] = xd[i] > 0.0f ? xd[i] : 0.0f;
    if (needs_grad({&x}))
        record(out, "relu", {x}, [outv = out.detach(), n](const Grads& g) {
            const float* ov = outv.data();
            float* gx = g.input(0);
            if (!gx) return;
#pragma omp parallel for schedule(static) if (n >= kParallelMinMemoryBound)
            for (int64_t i = 0; i < n; ++i) gx[i] += ov[i] > 0.0f ? g.out[i] : 0.0f;
        });
    return out;
}

}  // namespace gpt
