// ReLU: out = max(x, 0); backward dx = g·[out > 0] (the output is the mask, so nothing extra is saved).
#include "autograd/ops.h"
#include "autograd/ops/parallel.h"

namespace gpt {

Tensor relu(const Tensor& x) {
    check(x.defined(), "relu", "undefined input");
    Tensor out = Tensor::empty(x.shape());
    const float* xd = x.data();
    float* od = out.data();
    const int64_t n = x.numel();
#pragma omp parallel for schedule(static) if (n >= kParallelMin)
    for (int64_t i = 0; i < n; ++i) od[i] = xd[i] > 0.0f ? xd[i] : 0.0f;
    if (needs_grad({&x}))
        record(out, "relu", {x}, [x](TensorImpl& o) {
            const float* g = o.grad->data;
            const float* ov = o.data();
            float* gx = x.grad_buffer();
            const int64_t count = o.numel;
#pragma omp parallel for schedule(static) if (count >= kParallelMin)
            for (int64_t i = 0; i < count; ++i) gx[i] += ov[i] > 0.0f ? g[i] : 0.0f;
        });
    return out;
}

}  // namespace gpt
