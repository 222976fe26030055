// NumPy broadcasting for the binary element-wise ops (private to autograd/ops/).
//
// Shapes are aligned from the right; an axis of size 1 stretches to the other operand's size. The plan
// drops size-1 output axes and merges neighbouring axes that broadcast alike, so that [B, T, C] + [C]
// becomes out [B·T, C] with a-strides [C, 1] and b-strides [0, 1]: the kernels then walk rows of the
// last merged axis (cols) with per-operand column strides of 0 (stretched) or 1 (contiguous).
#pragma once

#include <cstdint>
#include <vector>

#include "autograd/ops/parallel.h"
#include "autograd/tensor.h"

namespace gpt {

struct BroadcastPlan {
    Shape out_shape;
    int64_t numel = 0;
    std::vector<int64_t> outer_dims;  // merged axes before the last
    std::vector<int64_t> a_outer_strides, b_outer_strides;
    int64_t rows = 1, cols = 1;
    int64_t a_col_stride = 1, b_col_stride = 1;  // 0 or 1
    bool a_full = true, b_full = true;           // operand already has the output's shape

    // Offsets of row `row` (an index over outer_dims) in a and b.
    void offsets(int64_t row, int64_t& a_offset, int64_t& b_offset) const {
        a_offset = 0;
        b_offset = 0;
        for (size_t k = outer_dims.size(); k-- > 0;) {
            const int64_t i = row % outer_dims[k];
            row /= outer_dims[k];
            a_offset += i * a_outer_strides[k];
            b_offset += i * b_outer_strides[k];
        }
    }
};

// Throws std::invalid_argument "<op>: shapes [..] and [..] do not broadcast" when they do not.
BroadcastPlan broadcast_plan(const char* op, const Shape& a, const Shape& b);

// Calls body.template operator()<SA, SB>() with the plan's column strides as compile-time constants,
// so the inner loops vectorise.
template <class Body>
void dispatch_strides(const BroadcastPlan& p, Body&& body) {
    if (p.a_col_stride && p.b_col_stride) body.template operator()<1, 1>();
    else if (p.a_col_stride) body.template operator()<1, 0>();
    else if (p.b_col_stride) body.template operator()<0, 1>();
    else body.template operator()<0, 0>();
}

// out[i] = f(a[i_a], b[i_b]) over the broadcast output.
template <class F>
void broadcast_forward(const BroadcastPlan& p, const float* a, const float* b, float* out, F f) {
    if (p.a_full && p.b_full) {
#pragma omp parallel for schedule(static) if (p.numel >= kParallelMinMemoryBound)
        for (int64_t i = 0; i < p.numel; ++i) out[i] = f(a[i], b[i]);
        return;
    }
    dispatch_strides(p, [&]<int SA, int SB>() {
#pragma omp parallel for schedule(static) if (p.numel >= kParallelMinMemoryBound)
        for (int64_t r = 0; r < p.rows; ++r) {
            int64_t oa, ob;
            p.offsets(r, oa, ob);
            const float* ar = a + oa;
            const float* br = b + ob;
            float* orow = out + r * p.cols;
            for (int64_t j = 0; j < p.cols; ++j) orow[j] = f(ar[j * SA], br[j * SB]);
        }
    });
}

// Backward into one operand: grad[i_target] += term(g[i], a[i_a], b[i_b]) for every output element i.
// A stretched operand receives the sum over its broadcast axes. Each target element is summed by one
// thread in output order: rows in parallel when the target is not stretched (every element written
// once), column blocks in parallel when only its leading axes are stretched, serial otherwise.
template <bool IntoA, class F>
void broadcast_accumulate(const BroadcastPlan& p, const float* g, const float* a, const float* b, float* grad, F term,
                          bool assign = false) {
    const bool full = IntoA ? p.a_full : p.b_full;
    if (p.a_full && p.b_full) {  // assign (a fresh gradient buffer, Grads::target): = instead of +=
        if (assign) {
#pragma omp parallel for schedule(static) if (p.numel >= kParallelMinMemoryBound)
            for (int64_t i = 0; i < p.numel; ++i) grad[i] = term(g[i], a[i], b[i]);
        } else {
#pragma omp parallel for schedule(static) if (p.numel >= kParallelMinMemoryBound)
            for (int64_t i = 0; i < p.numel; ++i) grad[i] += term(g[i], a[i], b[i]);
        }
        return;
    }
    check(!assign, "broadcast_accumulate", "assign needs both operands of the output's shape");
    dispatch_strides(p, [&]<int SA, int SB>() {
        auto rows_cols = [&](int64_t r0, int64_t r1, int64_t c0, int64_t c1) {
            for (int64_t r = r0; r < r1; ++r) {
                int64_t oa, ob;
                p.offsets(r, oa, ob);
                const float* ar = a + oa;
                const float* br = b + ob;
                const float* grow = g + r * p.cols;
                float* target = grad + (IntoA ? oa : ob);
                constexpr int ST = IntoA ? SA : SB;
                for (int64_t j = c0; j < c1; ++j) target[j * ST] += term(grow[j], ar[j * SA], br[j * SB]);
            }
        };
        const bool big = p.numel >= kParallelMinMemoryBound;
        const int64_t target_col_stride = IntoA ? SA : SB;
        if (full) {
#pragma omp parallel for schedule(static) if (big)
            for (int64_t r = 0; r < p.rows; ++r) rows_cols(r, r + 1, 0, p.cols);
        } else if (target_col_stride == 1 && big) {
            for_column_blocks(p.cols, true, [&](int64_t c0, int64_t c1) { rows_cols(0, p.rows, c0, c1); });
        } else {
            rows_cols(0, p.rows, 0, p.cols);
        }
    });
}

}  // namespace gpt
