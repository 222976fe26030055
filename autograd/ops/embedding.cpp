// Embedding lookup: weight [V, C], ids (N of them, shaped ids_shape) → out ids_shape + [C].
//   out[n, :] = weight[ids[n], :]
//   backward: dweight[ids[n], :] += g[n, :]  (scatter-add; repeated ids add up)
// The scatter is split over column blocks, each thread walking n in order for its own columns, so two
// threads never touch one float and the sum order is fixed: deterministic without atomics.
#include <algorithm>

#include "autograd/ops.h"
#include "autograd/profile.h"
#include "autograd/ops/parallel.h"

namespace gpt {

Tensor embedding(const Tensor& weight, const std::vector<int32_t>& ids, const Shape& ids_shape) {
    profile::Scope profile_scope("embedding");
    check(weight.defined() && weight.dim() == 2, "embedding",
          "weight must be [V, C], got " + (weight.defined() ? shape_str(weight.shape()) : std::string("undefined")));
    const int64_t V = weight.size(0), C = weight.size(1);
    const int64_t N = static_cast<int64_t>(ids.size());
    check(N == shape_numel(ids_shape), "embedding",
          std::to_string(N) + " ids do not fill ids_shape " + shape_str(ids_shape));
    for (int64_t n = 0; n < N; ++n)
        check(ids[n] >= 0 && ids[n] < V, "embedding",
              "id " + std::to_string(ids[n]) + " at position " + std::to_string(n) + " is outside [0, " +
                  std::to_string(V) + ") for weight " + shape_str(weight.shape()));
    Shape out_shape = ids_shape;
    out_shape.push_back(C);
    Tensor out = Tensor::empty(out_shape);
    const float* w = weight.data();
    float* od = out.data();
#pragma omp parallel for schedule(static) if (N * C >= kParallelMinMemoryBound)
    for (int64_t n = 0; n < N; ++n) std::copy_n(w + ids[n] * C, C, od + n * C);

    if (needs_grad({&weight}))
        record(out, "embedding", {weight}, [ids, N, C](const Grads& grads) {  // reads no values, only ids
            const float* g = grads.out;
            float* gw = grads.input(0);
            if (!gw) return;
            for_column_blocks(C, N * C >= kParallelMinMemoryBound, [&](int64_t c0, int64_t c1) {
                for (int64_t n = 0; n < N; ++n) {
                    float* row = gw + ids[n] * C;
                    const float* grow = g + n * C;
                    for (int64_t c = c0; c < c1; ++c) row[c] += grow[c];
                }
            });
        });
    return out;
}

}  // namespace gpt
