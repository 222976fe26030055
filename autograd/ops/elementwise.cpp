// Element-wise ops: add/sub/mul/div with NumPy broadcasting, scalar add/mul, exp, log.
//
// Binary ops, out = f(a, b) over the broadcast shape; backward (g = dL/dout), summed over the axes an
// operand was stretched along (broadcast_accumulate):
//   add: da = g           db = g
//   sub: da = g           db = −g
//   mul: da = g·b         db = g·a
//   div: da = g/b         db = −g·a/b²
// Saved for backward: only the operand values a needed term reads (Reads below): add and sub keep
// nothing, mul keeps b for da and a for db; unary ops keep x or out likewise.
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

// Which values a backward term reads (of a and b for binary ops, of x and out for unary ones).
struct Reads {
    bool first = false, second = false;
};

// `t` saved for backward if `keep`, else undefined (nothing held).
Tensor saved_if(bool keep, const Tensor& t) { return keep ? t.detach() : Tensor(); }

// The saved values, or, for an operand no term reads, `stand_in` (dL/d out): every index into an
// operand is below the output's numel, so the term's unused argument is loaded from valid memory.
const float* values_or(const Tensor& saved, const float* stand_in) { return saved.defined() ? saved.data() : stand_in; }

// Forward with f(a, b), and the backward terms da(g, a, b), db(g, a, b), all inlined per element.
// da_reads / db_reads: which of a and b each term reads; only those values are saved.
template <class F, class DA, class DB>
Tensor binary(const char* op, const Tensor& a, const Tensor& b, F f, DA da, Reads da_reads, DB db, Reads db_reads) {
    profile::Scope profile_scope(op);
    check(a.defined() && b.defined(), op, "undefined input");
    const BroadcastPlan plan = broadcast_plan(op, a.shape(), b.shape());
    Tensor out = Tensor::empty(plan.out_shape);
    broadcast_forward(plan, a.data(), b.data(), out.data(), f);
    if (needs_grad({&a, &b})) {
        const bool ga = a.requires_grad(), gb = b.requires_grad();
        Tensor av = saved_if((ga && da_reads.first) || (gb && db_reads.first), a);
        Tensor bv = saved_if((ga && da_reads.second) || (gb && db_reads.second), b);
        record(out, op, {a, b}, [av, bv, plan, da, db](const Grads& g) {
            const float* a_values = values_or(av, g.out);
            const float* b_values = values_or(bv, g.out);
            // An operand of the output's shape is written whole: it may take a fresh buffer (Grads::target).
            const GradTarget ta = plan.a_full && plan.b_full ? g.target(0) : GradTarget{g.input(0), false};
            const GradTarget tb = plan.a_full && plan.b_full ? g.target(1) : GradTarget{g.input(1), false};
            if (ta.data) broadcast_accumulate<true>(plan, g.out, a_values, b_values, ta.data, da, ta.assign);
            if (tb.data) broadcast_accumulate<false>(plan, g.out, a_values, b_values, tb.data, db, tb.assign);
        });
    }
    return out;
}

// out = f(x) element by element; backward dx = g·dfdx(x, out), reading what `reads` says of x and out.
template <class F, class D>
Tensor unary(const char* op, const Tensor& x, F f, D dfdx, Reads reads) {
    profile::Scope profile_scope(op);
    check(x.defined(), op, "undefined input");
    Tensor out = Tensor::empty(x.shape());
    const float* xd = x.data();
    float* od = out.data();
    const int64_t n = x.numel();
#pragma omp parallel for schedule(static) if (n >= kParallelMinMemoryBound)
    for (int64_t i = 0; i < n; ++i) od[i] = f(xd[i]);
    if (needs_grad({&x})) {
        Tensor xs = saved_if(reads.first, x), os = saved_if(reads.second, out);
        record(out, op, {x}, [xs, os, dfdx, n](const Grads& g) {
            const float* xv = values_or(xs, g.out);
            const float* ov = values_or(os, g.out);
            const GradTarget gx = g.target(0);
            if (!gx.data) return;
            if (gx.assign) {  // a fresh buffer (Grads::target)
#pragma omp parallel for schedule(static) if (n >= kParallelMinMemoryBound)
                for (int64_t i = 0; i < n; ++i) gx.data[i] = g.out[i] * dfdx(xv[i], ov[i]);
            } else {
#pragma omp parallel for schedule(static) if (n >= kParallelMinMemoryBound)
                for (int64_t i = 0; i < n; ++i) gx.data[i] += g.out[i] * dfdx(xv[i], ov[i]);
            }
        });
    }
    return out;
}

}  // namespace

Tensor add(const Tensor& a, const Tensor& b) {
    return binary(
        "add", a, b, [](float x, float y) { return x + y; }, [](float g, float, float) { return g; }, Reads{},
        [](float g, float, float) { return g; }, Reads{});
}

Tensor sub(const Tensor& a, const Tensor& b) {
    return binary(
        "sub", a, b, [](float x, float y) { return x - y; }, [](float g, float, float) { return g; }, Reads{},
        [](float g, float, float) { return -g; }, Reads{});
}

Tensor mul(const Tensor& a, const Tensor& b) {
    return binary(
        "mul", a, b, [](float x, float y) { return x * y; }, [](float g, float, float y) { return g * y; },
        Reads{false, true}, [](float g, float x, float) { return g * x; }, Reads{true, false});
}

Tensor div(const Tensor& a, const Tensor& b) {
    return binary(
        "div", a, b, [](float x, float y) { return x / y; }, [](float g, float, float y) { return g / y; },
        Reads{false, true}, [](float g, float x, float y) { return -g * x / (y * y); }, Reads{true, true});
}

Tensor add_scalar(const Tensor& a, float s) {
    return unary(
        "add_scalar", a, [s](float x) { return x + s; }, [](float, float) { return 1.0f; }, Reads{});
}

Tensor mul_scalar(const Tensor& a, float s) {
    return unary(
        "mul_scalar", a, [s](float x) { return x * s; }, [s](float, float) { return s; }, Reads{});
}

// d exp(x)/dx = exp(x) = out.
Tensor exp(const Tensor& a) {
    return unary(
        "exp", a, [](float x) { return std::exp(x); }, [](float, float out) { return out; }, Reads{false, true});
}

// d log(x)/dx = 1/x; log of a non-positive value gives −inf/NaN as in IEEE (no check per element).
Tensor log(const Tensor& a) {
    return unary(
        "log", a, [](float x) { return std::log(x); }, [](float x, float) { return 1.0f / x; }, Reads{true, false});
}

}  // namespace gpt
