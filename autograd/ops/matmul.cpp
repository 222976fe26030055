// Matrix products through sgemm (autograd/ops/gemm.h: the own AVX-512 kernel, or cblas_sgemm), row-major.
// Transposes are flags read by the packing, never copies.
//
// matmul: C[..., M, N] = A[..., M, K] · B[..., K, N]   (transpose_b: B given as [..., N, K], C = A·Bᵀ)
//   dA = dC · Bᵀ        (transpose_b: dA = dC · B)
//   dB = Aᵀ · dC        (transpose_b: dB = dCᵀ · A)
// A 2-D B shared by every batch entry is folded: A is one [batch·M, K] matrix, so forward and both
// backward products are single sgemm calls (dB sums over the batch inside the product).
//
// linear: Y[R, out] = X[R, in] · Wᵀ + b  with R = all leading axes of x, W [out, in] as PyTorch stores it
//   dX += dY · W        dW += dYᵀ · X       db += Σ_rows dY
// Every gradient product uses beta = 1, accumulating straight into the (zero-initialised) grad buffers,
// except linear's dX while x has no gradient yet (Grads::target): beta 0, no zero fill.
// Saved for backward: B's values only if A needs a gradient, A's only if B does (W and X for linear).
//
// sgemm is never called inside an OpenMP region: it threads itself.
#include <algorithm>

#include "autograd/ops.h"
#include "autograd/ops/gemm.h"
#include "autograd/ops/linear.h"
#include "autograd/profile.h"
#include "autograd/ops/parallel.h"

namespace gpt {

namespace {

// C = alpha·op(A)·op(B) + beta·C, row-major. Empty products (any size 0) are skipped: OpenBLAS rejects
// a leading dimension of 0, and the result (an empty C, or beta·C with K = 0) is handled by the caller.
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B,
          int64_t ldb, float beta, float* C, int64_t ldc) {
    if (M == 0 || N == 0 || K == 0) return;
    sgemm(trans_a, trans_b, M, N, K, A, lda, B, ldb, beta, C, ldc);
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b, bool transpose_b) {
    profile::Scope profile_scope("matmul");
    check(a.defined() && b.defined(), "matmul", "undefined input");
    const std::string shapes = "a " + shape_str(a.shape()) + ", b " + shape_str(b.shape()) +
                               (transpose_b ? " (transpose_b)" : "");
    check(a.dim() >= 2 && b.dim() >= 2, "matmul", "needs at least 2-D operands, got " + shapes);
    const bool shared_b = b.dim() == 2;
    check(shared_b || b.dim() == a.dim(), "matmul", "b must be 2-D or have a's batch axes, got " + shapes);
    const int64_t M = a.size(-2), K = a.size(-1);
    const int64_t N = transpose_b ? b.size(-2) : b.size(-1);
    check((transpose_b ? b.size(-1) : b.size(-2)) == K, "matmul", "inner dimensions differ: " + shapes);
    Shape out_shape(a.shape().begin(), a.shape().end() - 2);
    if (!shared_b)
        check(Shape(b.shape().begin(), b.shape().end() - 2) == out_shape, "matmul", "batch axes differ: " + shapes);
    const int64_t batch = shape_numel(out_shape);
    out_shape.push_back(M);
    out_shape.push_back(N);

    Tensor out = Tensor::empty(out_shape);
    if (K == 0) std::fill_n(out.data(), out.numel(), 0.0f);
    const int64_t ldb = transpose_b ? K : N;
    if (shared_b) {
        gemm(false, transpose_b, batch * M, N, K, a.data(), K, b.data(), ldb, 0.0f, out.data(), N);
    } else {
        for (int64_t i = 0; i < batch; ++i)
            gemm(false, transpose_b, M, N, K, a.data() + i * M * K, K, b.data() + i * K * N, ldb, 0.0f,
                 out.data() + i * M * N, N);
    }

    if (needs_grad({&a, &b}))
        record(out, "matmul", {a, b}, [av = b.requires_grad() ? a.detach() : Tensor(),
                                       bv = a.requires_grad() ? b.detach() : Tensor(), transpose_b, shared_b, batch,
                                       M, N, K, ldb](const Grads& g) {
            const float* dC = g.out;
            // Shared b: the batch folds into rows (one product); otherwise one product per batch entry.
            const int64_t groups = shared_b ? 1 : batch;
            const int64_t rows = shared_b ? batch * M : M;
            const int64_t b_step = shared_b ? 0 : K * N;
            if (float* dA = g.input(0)) {
                for (int64_t i = 0; i < groups; ++i)  // dA[rows, K] += dC[rows, N] · op(B)ᵀ
                    gemm(false, !transpose_b, rows, K, N, dC + i * rows * N, N, bv.data() + i * b_step, ldb, 1.0f,
                         dA + i * rows * K, K);
            }
            if (float* dB = g.input(1)) {
                for (int64_t i = 0; i < groups; ++i) {
                    const float* A = av.data() + i * rows * K;
                    const float* G = dC + i * rows * N;
                    if (transpose_b)  // dB[N, K] += dCᵀ · A
                        gemm(true, false, N, K, rows, G, N, A, K, 1.0f, dB + i * b_step, K);
                    else  // dB[K, N] += Aᵀ · dC
                        gemm(true, false, K, N, rows, A, K, G, N, 1.0f, dB + i * b_step, N);
                }
            }
        });
    return out;
}

LinearShape check_linear(const char* op, const Tensor& x, const Tensor& weight, const Tensor& bias) {
    check(x.defined() && weight.defined(), op, "undefined input or weight");
    const std::string shapes = "x " + shape_str(x.shape()) + ", weight " + shape_str(weight.shape()) +
                               (bias.defined() ? ", bias " + shape_str(bias.shape()) : "");
    check(x.dim() >= 1 && weight.dim() == 2, op, "needs x [..., in] and weight [out, in], got " + shapes);
    const int64_t in = weight.size(1), out_features = weight.size(0);
    check(x.size(-1) == in, op, "x's last axis differs from weight's in: " + shapes);
    if (bias.defined()) check(bias.shape() == Shape{out_features}, op, "bias must be [out], got " + shapes);
    Shape out_shape = x.shape();
    out_shape.back() = out_features;
    return {x.numel() / (in > 0 ? in : 1), in, out_features, out_shape};
}

void linear_backward_products(const Grads& g, const float* dY, const Tensor& xv, const Tensor& wv, int64_t R,
                              int64_t in, int64_t out_features) {
    if (const GradTarget dX = g.target(0); dX.data) {  // dX[R, in] (+)= dY[R, out] · W[out, in]
        if (out_features == 0 && dX.assign) std::fill_n(dX.data, R * in, 0.0f);
        gemm(false, false, R, in, out_features, dY, out_features, wv.data(), in, dX.assign ? 0.0f : 1.0f, dX.data,
             in);
    }
    if (float* dW = g.input(1))  // dW[out, in] += dYᵀ · X[R, in]
        gemm(true, false, out_features, in, R, dY, out_features, xv.data(), in, 1.0f, dW, in);
}

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
    profile::Scope profile_scope("linear");
    const LinearShape shape = check_linear("linear", x, weight, bias);
    const int64_t R = shape.R, in = shape.in, out_features = shape.out;
    Tensor out = Tensor::empty(shape.out_shape);

    // Y = X·Wᵀ + b: the bias is added as the product stores Y (gemm.h sgemm_bias), not in a pass of its own.
    float* y = out.data();
    if (R > 0 && out_features > 0) {
        if (bias.defined())
            sgemm_bias(false, true, R, out_features, in, x.data(), in, weight.data(), in, bias.data(), y, out_features);
        else
            sgemm(false, true, R, out_features, in, x.data(), in, weight.data(), in, 0.0f, y, out_features);
    }

    if (needs_grad({&x, &weight, &bias}))
        record(out, "linear", {x, weight, bias},
               [xv = weight.requires_grad() ? x.detach() : Tensor(),
                wv = x.requires_grad() ? weight.detach() : Tensor(), R, in, out_features](const Grads& g) {
            const float* dY = g.out;
            linear_backward_products(g, dY, xv, wv, R, in, out_features);
            if (float* db = g.input(2)) {
                // db[j] = Σ_r dY[r, j]: each column block summed by one thread in row order (deterministic).
                const bool parallel = R * out_features >= kParallelMinMemoryBound;
                for_column_blocks(out_features, parallel, [&](int64_t c0, int64_t c1) {
                    for (int64_t r = 0; r < R; ++r)
                        for (int64_t j = c0; j < c1; ++j) db[j] += dY[r * out_features + j];
                });
            }
        });
    return out;
}

}  // namespace gpt
