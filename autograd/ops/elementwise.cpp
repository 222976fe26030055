// Element-wise ops: add/sub/mul/div with NumPy broadcasting, scalar add/mul, exp, log.
//
// Binary ops, out = f(a, b) over the broadcast shape; backward (g = dL/dout), summed over the axes an
// operand was stretched along (broadcast_accumulate):
//   add: da = g           db = g
//   sub: da = g           db = −g
//   mul: da = g·b         db = g·a
//   div: da = g/b         db = −g·a/b²
#include <cmath>

#include "autograd/ops.h"
#include "autograd/profile.h"
#include "autograd/ops/broadcast.h"
#include "autograd/ops/parallel.h"

namespace gpt {

BroadcastPlan broadcast_plan(const char* op, const Shape& a, const Shape& b) {
    const size_t ndim = std::max(a.size(), b.size());
    BroadcastPlan p;
    p.out_shape.assign(ndim, 1);
    // Per output axis: size, whether a / b is stretched along it.
    struct Axis {
        int64_t size;
        bool a_stretched, b_stretched;
    };
    std::vector<Axis> axes;
    for (size_t k = 0; k < ndim; ++k) {
        const int64_t da = k + a.size() >= ndim ? a[k + a.size() - ndim] : 1;
        const int64_t db = k + b.size() >= ndim ? b[k + b.size() - ndim] : 1;
        check(da == db || da == 1 || db == 1, op,
              "shapes " + shape_str(a) + " and " + shape_str(b) + " do not broadcast");
        const int64_t d = da == 1 ? db : da;
        p.out_shape[k] = d;
        if (d == 1) continue;  // a size-1 output axis moves no index
        const Axis axis{d, da != d, db != d};
        if (!axes.empty() && axes.back().a_stretched == axis.a_stretched &&
            axes.back().b_stretched == axis.b_stretched)
            axes.back().size *= d;
        else
            axes.push_back(axis);
    }
    p.numel = shape_numel(p.out_shape);
    p.a_full = shape_numel(a) == p.numel;
    p.b_full = shape_numel(b) == p.numel;
    if (axes.empty()) axes.push_back({1, false, false});

    const size_t n = axes.size();
    std::vector<int64_t> a_strides(n), b_strides(n);
    int64_t a_step = 1, b_step = 1;
    for (size_t k = n; k-- > 0;) {
        a_strides[k] = axes[k].a_stretched ? 0 : a_step;
        b_strides[k] = axes[k].b_stretched ? 0 : b_step;
        if (!axes[k].a_stretched) a_step *= axes[k].size;
        if (!axes[k].b_stretched) b_step *= axes[k].size;
    }
    p.cols = axes.back().size;
    p.a_col_stride = a_strides.back();
    p.b_col_stride = b_strides.back();
    for (size_t k = 0; k + 1 < n; ++k) {
        p.outer_dims.push_back(axes[k].size);
        p.a_outer_strides.push_back(a_strides[k]);
        p.b_outer_strides.push_back(b_strides[k]);
        p.rows *= axes[k].size;
    }
    return p;
}

namespace {

// Forward with f(a, b), and the backward terms da(g, a, b), db(g, a, b), all inlined per element.
template <class F, class DA, class DB>
Tensor binary(const char* op, const Tensor& a, const Tensor& b, F f, DA da, DB db) {
    profile::Scope profile_scope(op);
    check(a.defined() && b.defined(), op, "undefined input");
    const BroadcastPlan plan = broadcast_plan(op, a.shape(), b.shape());
    Tensor out = Tensor::empty(plan.out_shape);
    broadcast_forward(plan, a.data(), b.data(), out.data(), f);
    if (needs_grad({&a, &b}))
        record(out, op, {a, b}, [a, b, plan, da, db](TensorImpl& o) {
            const float* g = o.grad->data;
            if (a.requires_grad()) broadcast_accumulate<true>(plan, g, a.data(), b.data(), a.grad_buffer(), da);
            if (b.requires_grad()) broadcast_accumulate<false>(plan, g, a.data(), b.data(), b.grad_buffer(), db);
        });
    return out;
}

// out = f(x) element by element; backward dx = g·dfdx(x, out).
template <class F, class D>
Tensor unary(const char* op, const Tensor& x, F f, D dfdx) {
    profile::Scope profile_scope(op);
    check(x.defined(), op, "undefined input");
    Tensor out = Tensor::empty(x.shape());
    const float* xd = x.data();
    float* od = out.data();
    const int64_t n = x.numel();
#pragma omp parallel for schedule(static) if (n >= kParallelMin)
    for (int64_t i = 0; i < n; ++i) od[i] = f(xd[i]);
    if (needs_grad({&x}))
        record(out, op, {x}, [x, dfdx](TensorImpl& o) {
            const float* g = o.grad->data;
            const float* xv = x.data();
            const float* ov = o.data();
            float* gx = x.grad_buffer();
            const int64_t count = o.numel;
#pragma omp parallel for schedule(static) if (count >= kParallelMin)
            for (int64_t i = 0; i < count; ++i) gx[i] += g[i] * dfdx(xv[i], ov[i]);
        });
    return out;
}

}  // namespace

Tensor add(const Tensor& a, const Tensor& b) {
    return binary(
        "add", a, b, [](float x, float y) { return x + y; }, [](float g, float, float) { return g; },
        [](float g, float, float) { return g; });
}

Tensor sub(const Tensor& a, const Tensor& b) {
    return binary(
        "sub", a, b, [](float x, float y) { return x - y; }, [](float g, float, float) { return g; },
        [](float g, float, float) { return -g; });
}

Tensor mul(const Tensor& a, const Tensor& b) {
    return binary(
        "mul", a, b, [](float x, float y) { return x * y; }, [](float g, float, float y) { return g * y; },
        [](float g, float x, float) { return g * x; });
}

Tensor div(const Tensor& a, const Tensor& b) {
    return binary(
        "div", a, b, [](float x, float y) { return x / y; }, [](float g, float, float y) { return g / y; },
        [](float g, float x, float y) { return -g * x / (y * y); });
}

Tensor add_scalar(const Tensor& a, float s) {
    return unary(
        "add_scalar", a, [s](float x) { return x + s; }, [](float, float) { return 1.0f; });
}

Tensor mul_scalar(const Tensor& a, float s) {
    return unary(
        "mul_scalar", a, [s](float x) { return x * s; }, [s](float, float) { return s; });
}

// d exp(x)/dx = exp(x) = out.
Tensor exp(const Tensor& a) {
    return unary(
        "exp", a, [](float x) { return std::exp(x); }, [](float, float out) { return out; });
}

// d log(x)/dx = 1/x; log of a non-positive value gives −inf/NaN as in IEEE (no check per element).
Tensor log(const Tensor& a) {
    return unary(
        "log", a, [](float x) { return std::log(x); }, [](float x, float) { return 1.0f / x; });
}

}  // namespace gpt
