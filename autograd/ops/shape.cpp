// Shape ops: reshape (a view), transpose/permute (copies), split/concat (copies).
//
// permute: out axis k is x axis order[k]. out[idx] = x[Σ_k idx_k · xstride[order[k]]]. The backward is
// the same gather with the inverse order, accumulating into dx: dx = permute(g, order⁻¹).
// split/concat: x viewed as [outer, n, inner] along the axis; piece p covers columns [off_p, off_p + n_p).
// Every backward here moves gradients by shape alone: no input's values are saved.
#include <algorithm>
#include <numeric>

#include "autograd/ops.h"
#include "autograd/ops/parallel.h"

namespace gpt {

namespace {

int64_t normalise_axis(const char* op, int64_t axis, int64_t dim, const Shape& shape) {
    const int64_t a = axis < 0 ? axis + dim : axis;
    check(a >= 0 && a < dim, op, "axis " + std::to_string(axis) + " out of range for shape " + shape_str(shape));
    return a;
}

// dst (shape src_shape permuted by order, contiguous) = or += src gathered through the permutation.
// Rows of dst's last axis are independent, so they run in parallel; the inner loop reads src with the
// stride of axis order.back() (1 when the last axis stays last, as in [B, T, H, hd] → [B, H, T, hd]).
void permute_kernel(const float* src, const Shape& src_shape, const std::vector<int64_t>& order, float* dst,
                    bool accumulate) {
    const size_t d = src_shape.size();
    std::vector<int64_t> src_stride(d, 1);
    for (size_t k = d; k-- > 1;) src_stride[k - 1] = src_stride[k] * src_shape[k];
    std::vector<int64_t> dst_shape(d), stride(d);  // stride: src stride of dst axis k
    for (size_t k = 0; k < d; ++k) {
        dst_shape[k] = src_shape[static_cast<size_t>(order[k])];
        stride[k] = src_stride[static_cast<size_t>(order[k])];
    }
    const int64_t numel = shape_numel(src_shape);
    if (numel == 0) return;
    if (d == 0) {  // a scalar: nothing to permute
        dst[0] = accumulate ? dst[0] + src[0] : src[0];
        return;
    }
    const int64_t cols = dst_shape.back();
    const int64_t col_stride = stride.back();
    const int64_t rows = numel / cols;
#pragma omp parallel for schedule(static) if (numel >= kParallelMinMemoryBound)
    for (int64_t r = 0; r < rows; ++r) {
        int64_t rest = r, offset = 0;
        for (size_t k = d - 1; k-- > 0;) {
            offset += (rest % dst_shape[k]) * stride[k];
            rest /= dst_shape[k];
        }
        const float* s = src + offset;
        float* o = dst + r * cols;
        if (accumulate)
            for (int64_t j = 0; j < cols; ++j) o[j] += s[j * col_stride];
        else
            for (int64_t j = 0; j < cols; ++j) o[j] = s[j * col_stride];
    }
}

// Copies the [outer, n_piece, inner] block at column offset `offset` of a [outer, n_total, inner] tensor
// (to_piece) or back into it (accumulating).
void slice_copy(float* whole, float* piece, int64_t outer, int64_t n_total, int64_t n_piece, int64_t inner,
                int64_t offset, bool to_piece, bool accumulate) {
    const int64_t span = n_piece * inner;
#pragma omp parallel for schedule(static) if (outer * span >= kParallelMinMemoryBound)
    for (int64_t o = 0; o < outer; ++o) {
        float* w = whole + (o * n_total + offset) * inner;
        float* p = piece + o * span;
        float* to = to_piece ? p : w;
        const float* from = to_piece ? w : p;
        if (accumulate)
            for (int64_t i = 0; i < span; ++i) to[i] += from[i];
        else
            std::copy_n(from, span, to);
    }
}

}  // namespace

Tensor reshape(const Tensor& x, const Shape& shape) {
    check(x.defined(), "reshape", "undefined input");
    Tensor out = x.view(shape);  // shares storage; throws naming "view" on a size mismatch
    if (needs_grad({&x}))
        record(out, "reshape", {x}, [count = x.numel()](const Grads& grads) {
            const float* g = grads.out;
            float* gx = grads.input(0);
            if (!gx) return;
#pragma omp parallel for schedule(static) if (count >= kParallelMinMemoryBound)
            for (int64_t i = 0; i < count; ++i) gx[i] += g[i];
        });
    return out;
}

Tensor permute(const Tensor& x, const std::vector<int64_t>& order) {
    check(x.defined(), "permute", "undefined input");
    const int64_t d = x.dim();
    std::string order_str = "(";
    for (size_t k = 0; k < order.size(); ++k) order_str += (k ? ", " : "") + std::to_string(order[k]);
    order_str += ")";
    check(static_cast<int64_t>(order.size()) == d, "permute",
          "order " + order_str + " does not match shape " + shape_str(x.shape()));
    std::vector<int64_t> resolved(order.size()), inverse(order.size(), -1);
    for (size_t k = 0; k < order.size(); ++k) {
        const int64_t a = order[k] < 0 ? order[k] + d : order[k];
        check(a >= 0 && a < d && inverse[static_cast<size_t>(a)] < 0, "permute",
              "order " + order_str + " is not a permutation of the axes of " + shape_str(x.shape()));
        resolved[k] = a;
        inverse[static_cast<size_t>(a)] = static_cast<int64_t>(k);
    }
    Shape out_shape(order.size());
    for (size_t k = 0; k < order.size(); ++k) out_shape[k] = x.shape()[static_cast<size_t>(resolved[k])];
    Tensor out = Tensor::empty(out_shape);
    permute_kernel(x.data(), x.shape(), resolved, out.data(), false);
    if (needs_grad({&x}))
        record(out, "permute", {x}, [out_shape, inverse](const Grads& g) {
            if (float* gx = g.input(0)) permute_kernel(g.out, out_shape, inverse, gx, true);
        });
    return out;
}

Tensor transpose(const Tensor& x, int64_t axis0, int64_t axis1) {
    check(x.defined(), "transpose", "undefined input");
    const int64_t a0 = normalise_axis("transpose", axis0, x.dim(), x.shape());
    const int64_t a1 = normalise_axis("transpose", axis1, x.dim(), x.shape());
    std::vector<int64_t> order(static_cast<size_t>(x.dim()));
    std::iota(order.begin(), order.end(), 0);
    std::swap(order[static_cast<size_t>(a0)], order[static_cast<size_t>(a1)]);
    return permute(x, order);
}

std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int64_t axis) {
    check(x.defined(), "split", "undefined input");
    const int64_t ax = normalise_axis("split", axis, x.dim(), x.shape());
    const Shape& shape = x.shape();
    int64_t outer = 1, inner = 1, total = 0;
    for (int64_t k = 0; k < ax; ++k) outer *= shape[k];
    for (int64_t k = ax + 1; k < x.dim(); ++k) inner *= shape[k];
    std::string sizes_str;
    for (int64_t s : sizes) {
        check(s >= 0, "split", "negative size " + std::to_string(s));
        sizes_str += (sizes_str.empty() ? "" : ", ") + std::to_string(s);
        total += s;
    }
    const int64_t n = shape[ax];
    check(total == n, "split",
          "sizes (" + sizes_str + ") sum to " + std::to_string(total) + " but axis " + std::to_string(axis) +
              " of " + shape_str(shape) + " has " + std::to_string(n));
    const bool grad = needs_grad({&x});
    std::vector<Tensor> pieces;
    int64_t offset = 0;
    for (int64_t s : sizes) {
        Shape piece_shape = shape;
        piece_shape[ax] = s;
        Tensor piece = Tensor::empty(piece_shape);
        slice_copy(x.data(), piece.data(), outer, n, s, inner, offset, true, false);
        if (grad)
            record(piece, "split", {x}, [outer, n, s, inner, offset](const Grads& g) {
                // Adds the piece into the whole: g.out is only read (slice_copy's pointers serve both ways).
                float* gx = g.input(0);
                if (gx) slice_copy(gx, const_cast<float*>(g.out), outer, n, s, inner, offset, false, true);
            });
        pieces.push_back(std::move(piece));
        offset += s;
    }
    return pieces;
}

Tensor concat(const std::vector<Tensor>& xs, int64_t axis) {
    check(!xs.empty(), "concat", "needs at least one tensor");
    for (const Tensor& x : xs) check(x.defined(), "concat", "undefined input");
    const Shape& first = xs[0].shape();
    const int64_t ax = normalise_axis("concat", axis, xs[0].dim(), first);
    int64_t n = 0;
    for (const Tensor& x : xs) {
        bool compatible = x.dim() == xs[0].dim();
        for (int64_t k = 0; compatible && k < x.dim(); ++k)
            compatible = k == ax || x.shape()[k] == first[k];
        check(compatible, "concat",
              "shapes " + shape_str(first) + " and " + shape_str(x.shape()) + " differ outside axis " +
                  std::to_string(axis));
        n += x.shape()[ax];
    }
    int64_t outer = 1, inner = 1;
    for (int64_t k = 0; k < ax; ++k) outer *= first[k];
    for (int64_t k = ax + 1; k < xs[0].dim(); ++k) inner *= first[k];
    Shape out_shape = first;
    out_shape[ax] = n;
    Tensor out = Tensor::empty(out_shape);
    std::vector<int64_t> offsets;
    int64_t offset = 0;
    for (const Tensor& x : xs) {
        offsets.push_back(offset);
        slice_copy(out.data(), x.data(), outer, n, x.shape()[ax], inner, offset, false, false);
        offset += x.shape()[ax];
    }
    bool grad = false;
    for (const Tensor& x : xs) grad = grad || needs_grad({&x});
    if (grad)
        record(out, "concat", xs, [offsets, outer, n, inner](const Grads& g) {
            for (size_t p = 0; p < offsets.size(); ++p) {
                float* gx = g.input(p);
                if (!gx) continue;
                // dx_p = g[:, off_p : off_p + n_p, :]
                const int64_t n_p = (p + 1 < offsets.size() ? offsets[p + 1] : n) - offsets[p];
                slice_copy(const_cast<float*>(g.out), gx, outer, n, n_p, inner, offsets[p], true, true);
            }
        });
    return out;
}

}  // namespace gpt
