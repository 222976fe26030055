// linear_bf16: Y[R, out] = X[R, in] · Wᵀ + b with W [out, in] a bf16 copy (autograd/bf16.h), for
// generation only: no tape, no backward.
//
// Few rows (R ≤ kDirectRows; decoding at batch 1 has R = 1): the kernel table's linear_bf16 reads W once
// as bf16 and widens it in registers, so the step reads 2 bytes per weight instead of float32's 4 (the
// product is a matrix-vector one, bound by those bytes). Many rows (a prompt, or a window re-fed past
// block_size): W is read once per row there, so instead chunks of W are widened into a float32 buffer
// and multiplied by sgemm, as linear does (compute-bound; the widening is exact, so these are the same
// products of x and the bf16-rounded weights, summed in sgemm's order).
#include <algorithm>
#include <vector>

#include "autograd/kernels/kernels.h"
#include "autograd/ops.h"
#include "autograd/ops/gemm.h"
#include "autograd/ops/parallel.h"
#include "autograd/profile.h"

namespace gpt {

namespace {

// Rows up to which the matrix-vector kernel runs: it re-reads W's rows from L1 for every row of x.
constexpr int64_t kDirectRows = 8;
// Floats of W widened at a time on the sgemm branch (4 MB).
constexpr int64_t kWidenFloats = int64_t(1) << 20;

// y[R, N] (+)= x[R, K] · widen(W)ᵀ chunk by chunk of W's rows, each through sgemm (bias added by the
// chunk's own product).
void widened_products(const float* x, int64_t R, int64_t K, const Bf16Matrix& w, const float* bias, float* y) {
    const int64_t N = w.rows;
    const int64_t chunk = std::max<int64_t>(1, kWidenFloats / std::max<int64_t>(K, 1));
    std::vector<float> widened(static_cast<size_t>(std::min(chunk, N) * K));
    for (int64_t n0 = 0; n0 < N; n0 += chunk) {
        const int64_t rows = std::min(chunk, N - n0);
        const uint16_t* src = w.bits.data() + n0 * K;
        float* dst = widened.data();
        const int64_t count = rows * K;
#pragma omp parallel for schedule(static) if (count >= kParallelMinMemoryBound)
        for (int64_t i = 0; i < count; ++i) dst[i] = bf16_to_float(src[i]);
        if (bias)
            sgemm_bias(false, true, R, rows, K, x, K, dst, K, bias + n0, y + n0, N);
        else
            sgemm(false, true, R, rows, K, x, K, dst, K, 0.0f, y + n0, N);
    }
}

}  // namespace

Tensor linear_bf16(const Tensor& x, const Bf16Matrix& weight, const Tensor& bias) {
    profile::Scope profile_scope("linear_bf16");
    check(x.defined() && !weight.empty(), "linear_bf16", "undefined input or empty bf16 weight");
    const std::string shapes = "x " + shape_str(x.shape()) + ", weight [" + std::to_string(weight.rows) + ", " +
                               std::to_string(weight.cols) + "]" +
                               (bias.defined() ? ", bias " + shape_str(bias.shape()) : "");
    check(x.dim() >= 1, "linear_bf16", "needs x [..., in], got " + shapes);
    check(weight.bits.size() == static_cast<size_t>(weight.rows * weight.cols), "linear_bf16",
          "weight holds " + std::to_string(weight.bits.size()) + " values, not rows·cols: " + shapes);
    const int64_t in = weight.cols, out_features = weight.rows;
    check(x.size(-1) == in, "linear_bf16", "x's last axis differs from weight's in: " + shapes);
    if (bias.defined())
        check(bias.shape() == Shape{out_features}, "linear_bf16", "bias must be [out], got " + shapes);
    check(!needs_grad({&x, &bias}), "linear_bf16",
          "inference only: bf16 weights have no backward (run under NoGradGuard, or use linear)");
    const int64_t R = x.numel() / in;
    Shape out_shape = x.shape();
    out_shape.back() = out_features;
    Tensor out = Tensor::empty(out_shape);
    if (R == 0) return out;
    const float* b = bias.defined() ? bias.data() : nullptr;
    if (R <= kDirectRows)
        kernels::table().linear_bf16(x.data(), R, in, weight.bits.data(), out_features, b, out.data());
    else
        widened_products(x.data(), R, in, weight, b, out.data());
    return out;
}

}  // namespace gpt
