// Sums and means over one axis or over everything.
//
// sum over axis: x viewed as [outer, n, inner] → out[outer, inner], out[o, i] = Σ_j x[o, j, i]
//   backward: dx[o, j, i] += g[o, i]  (mean: g[o, i] / n)
// sum_all: out[] = Σ x, accumulated in double over fixed 4096-element chunks (so the result does not
//   depend on the thread count); backward dx += g (mean_all: g / numel).
// The backward reads shapes only: nothing of x's values is saved.
#include <algorithm>
#include <vector>

#include "autograd/ops.h"
#include "autograd/ops/parallel.h"

namespace gpt {

namespace {

Tensor reduce_axis(const char* op, const Tensor& x, int64_t axis, bool keepdim, bool average) {
    check(x.defined(), op, "undefined input");
    const int64_t d = x.dim();
    const int64_t ax = axis < 0 ? axis + d : axis;
    check(ax >= 0 && ax < d, op, "axis " + std::to_string(axis) + " out of range for shape " + shape_str(x.shape()));
    const Shape& shape = x.shape();
    int64_t outer = 1, inner = 1;
    for (int64_t k = 0; k < ax; ++k) outer *= shape[k];
    for (int64_t k = ax + 1; k < d; ++k) inner *= shape[k];
    const int64_t n = shape[ax];
    Shape out_shape = shape;
    if (keepdim) out_shape[ax] = 1;
    else out_shape.erase(out_shape.begin() + ax);
    const float scale = average ? 1.0f / static_cast<float>(n) : 1.0f;

    Tensor out = Tensor::empty(out_shape);
    const float* xd = x.data();
    float* od = out.data();
    // Tasks: (outer row, block of inner columns); each output summed over j in order by one thread.
    // Whole rows when there are enough of them to share out, column blocks otherwise.
    const int64_t width = outer >= omp_get_max_threads() ? std::max<int64_t>(inner, 1) : column_block(inner);
    const int64_t blocks = std::max<int64_t>(1, (inner + width - 1) / width);
#pragma omp parallel for schedule(static) if (x.numel() >= kParallelMinMemoryBound)
    for (int64_t t = 0; t < outer * blocks; ++t) {
        const int64_t o = t / blocks;
        const int64_t i0 = (t % blocks) * width;
        const int64_t i1 = std::min(i0 + width, inner);
        float* orow = od + o * inner;
        const float* xrow = xd + o * n * inner;
        if (inner == 1) {
            float acc = 0.0f;
            for (int64_t j = 0; j < n; ++j) acc += xrow[j];
            orow[0] = acc * scale;
            continue;
        }
        for (int64_t i = i0; i < i1; ++i) orow[i] = 0.0f;
        for (int64_t j = 0; j < n; ++j)
            for (int64_t i = i0; i < i1; ++i) orow[i] += xrow[j * inner + i];
        for (int64_t i = i0; i < i1; ++i) orow[i] *= scale;
    }

    if (needs_grad({&x}))
        record(out, op, {x}, [outer, n, inner, scale](const Grads& grads) {
            const float* g = grads.out;
            float* gx = grads.input(0);
            if (!gx) return;
#pragma omp parallel for schedule(static) if (outer * n * inner >= kParallelMinMemoryBound)
            for (int64_t r = 0; r < outer * n; ++r) {
                const float* grow = g + (r / n) * inner;
                float* gxrow = gx + r * inner;
                for (int64_t i = 0; i < inner; ++i) gxrow[i] += grow[i] * scale;
            }
        });
    return out;
}

Tensor reduce_all(const char* op, const Tensor& x, bool average) {
    check(x.defined(), op, "undefined input");
    constexpr int64_t chunk = 4096;
    const int64_t n = x.numel();
    const int64_t chunks = (n + chunk - 1) / chunk;
    std::vector<double> partial(static_cast<size_t>(chunks));
    const float* xd = x.data();
#pragma omp parallel for schedule(static) if (n >= kParallelMinMemoryBound)
    for (int64_t c = 0; c < chunks; ++c) {
        double acc = 0.0;
        for (int64_t i = c * chunk; i < std::min(n, (c + 1) * chunk); ++i) acc += xd[i];
        partial[static_cast<size_t>(c)] = acc;
    }
    double total = 0.0;
    for (double p : partial) total += p;
    const float scale = average ? 1.0f / static_cast<float>(n) : 1.0f;
    Tensor out = Tensor::scalar(static_cast<float>(total * scale));
    if (needs_grad({&x}))
        record(out, op, {x}, [n, scale](const Grads& grads) {
            const float g = grads.out[0] * scale;
            float* gx = grads.input(0);
            if (!gx) return;
#pragma omp parallel for schedule(static) if (n >= kParallelMinMemoryBound)
            for (int64_t i = 0; i < n; ++i) gx[i] += g;
        });
    return out;
}

}  // namespace

Tensor sum(const Tensor& x, int64_t axis, bool keepdim) { return reduce_axis("sum", x, axis, keepdim, false); }
Tensor mean(const Tensor& x, int64_t axis, bool keepdim) { return reduce_axis("mean", x, axis, keepdim, true); }
Tensor sum_all(const Tensor& x) { return reduce_all("sum_all", x, false); }
Tensor mean_all(const Tensor& x) {
    check(x.defined() && x.numel() > 0, "mean_all", "needs a non-empty tensor");
    return reduce_all("mean_all", x, true);
}

}  // namespace gpt
