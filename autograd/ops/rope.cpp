// Rotary position embedding (Su et al., RoFormer, 2021), GPT-NeoX's "rotate half" pairing: in a head of
// hd floats, dimension i (i < hd/2) pairs with i + hd/2, and position p rotates the pair by
//   θ_i = base^(−2i/hd),  a = p·θ_i:
//   y_i        = x_i·cos a − x_{i+hd/2}·sin a
//   y_{i+hd/2} = x_{i+hd/2}·cos a + x_i·sin a
// (HF Llama/NeoX `rotate_half`, not GPT-J's interleaved (2i, 2i+1) pairs.) q·k after rotation depends
// only on the positions' difference, which is what makes a cached key valid at any later query.
//
// Backward: the rotation R(a) is orthogonal, so dx = R(a)ᵀ dy = R(−a) dy:
//   dx_i        = dy_i·cos a + dy_{i+hd/2}·sin a
//   dx_{i+hd/2} = dy_{i+hd/2}·cos a − dy_i·sin a
// Columns past the rotated heads pass through: dx = dy. Saves nothing but the cos/sin table [T, hd/2].
//
// The table is computed in double and rounded once to float, as a float64 reference would.
#include <cmath>
#include <string>
#include <vector>

#include "autograd/ops.h"
#include "autograd/profile.h"
#include "autograd/ops/parallel.h"

namespace gpt {

namespace {

struct RopeTable {
    int64_t T, half;
    std::vector<float> cos, sin;  // [T, half]
};

RopeTable rope_table(int64_t T, int64_t head_dim, int64_t offset, double base) {
    RopeTable table{T, head_dim / 2, {}, {}};
    table.cos.resize(static_cast<size_t>(T * table.half));
    table.sin.resize(table.cos.size());
    for (int64_t t = 0; t < T; ++t)
        for (int64_t i = 0; i < table.half; ++i) {
            const double angle = static_cast<double>(offset + t) * std::pow(base, -2.0 * i / head_dim);
            table.cos[t * table.half + i] = static_cast<float>(std::cos(angle));
            table.sin[t * table.half + i] = static_cast<float>(std::sin(angle));
        }
    return table;
}

// y = R(sign·a) x on the first `rotated` heads of every row, y = x on the rest. x and y: [B·T, W].
void rotate(const RopeTable& table, int64_t rows, int64_t W, int64_t head_dim, int64_t rotated, float sign,
            const float* x, float* y, bool accumulate) {
    const int64_t half = table.half;
#pragma omp parallel for schedule(static) if (rows * W >= kParallelMinMemoryBound)
    for (int64_t r = 0; r < rows; ++r) {
        const float* c = table.cos.data() + (r % table.T) * half;
        const float* s = table.sin.data() + (r % table.T) * half;
        const float* xr = x + r * W;
        float* yr = y + r * W;
        for (int64_t h = 0; h < rotated; ++h) {
            const float* a = xr + h * head_dim;
            float* b = yr + h * head_dim;
            for (int64_t i = 0; i < half; ++i) {
                const float lo = a[i] * c[i] - sign * a[i + half] * s[i];
                const float hi = a[i + half] * c[i] + sign * a[i] * s[i];
                b[i] = accumulate ? b[i] + lo : lo;
                b[i + half] = accumulate ? b[i + half] + hi : hi;
            }
        }
        for (int64_t j = rotated * head_dim; j < W; ++j) yr[j] = accumulate ? yr[j] + xr[j] : xr[j];
    }
}

}  // namespace

Tensor rope(const Tensor& x, int64_t head_dim, int64_t rotated_heads, int64_t position_offset, double base) {
    profile::Scope profile_scope("rope");
    const char* op = "rope";
    check(x.defined() && x.dim() == 3, op,
          "x must be [B, T, W], got " + (x.defined() ? shape_str(x.shape()) : std::string("undefined")));
    check(head_dim > 0 && head_dim % 2 == 0, op, "head_dim " + std::to_string(head_dim) + " must be positive and even");
    check(rotated_heads >= 0 && rotated_heads * head_dim <= x.size(2), op,
          std::to_string(rotated_heads) + " rotated heads of " + std::to_string(head_dim) +
              " do not fit the row of " + shape_str(x.shape()));
    check(position_offset >= 0, op, "position_offset " + std::to_string(position_offset) + " is negative");
    check(base > 1.0, op, "base " + std::to_string(base) + " must be > 1");
    const int64_t rows = x.size(0) * x.size(1), W = x.size(2);
    auto table = std::make_shared<RopeTable>(rope_table(x.size(1), head_dim, position_offset, base));
    Tensor out = Tensor::empty(x.shape());
    rotate(*table, rows, W, head_dim, rotated_heads, 1.0f, x.data(), out.data(), false);
    if (needs_grad({&x}))
        record(out, op, {x}, [table, rows, W, head_dim, rotated_heads](const Grads& g) {
            float* dx = g.input(0);
            if (dx) rotate(*table, rows, W, head_dim, rotated_heads, -1.0f, g.out, dx, true);
        });
    return out;
}

}  // namespace gpt
