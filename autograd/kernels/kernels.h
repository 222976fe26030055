// Kernels chosen at run time: one build carries an AVX-512, an AVX2+FMA and a portable version of the
// hot loops and picks one when first used.
//
// Design (per-ISA translation units):
//   kernels_impl.h      the loops, written once, inside namespace `GPT_KERNEL_NS` + an anonymous
//                       namespace so each copy has internal linkage: impl_sgemm.h (the packed SGEMM
//                       driver), impl_rows.h (GELU, LayerNorm rows, the softmax rows of attention, AdamW,
//                       cross-entropy's exp rows), impl_bf16.h (the bf16-weight product); and the table;
//   kernels_avx512.cpp  includes it after defining the 12×32 zmm SGEMM micro-kernel; compiled with
//                       -march=x86-64-v3 -mavx512f -mavx512vl -mavx512bw -mavx512dq -mavx512cd
//                       -mprefer-vector-width=512 (CMakeLists.txt, per-source COMPILE_OPTIONS);
//   kernels_avx2.cpp    the 6×16 ymm micro-kernel (12 accumulators, as BLIS/OpenBLAS Haswell);
//                       compiled with -march=x86-64-v3 (AVX2, FMA, BMI, F16C) and -mno-avx512f;
//   kernels_portable.cpp  no own SGEMM (OpenBLAS) and the same loops compiled with -march=x86-64 (SSE2).
//   These flags come after the build's own (-march=native with GPT_NATIVE=ON), so they decide the ISA of
//   those three files whatever the build was configured with: a GPT_NATIVE=OFF build still runs the
//   AVX-512 or AVX2 kernels where the CPU has them.
// Rule for the ISA files: everything they define lives in the anonymous namespace, and they call only
// functions that are always inlined (fast_math::exp is [[gnu::always_inline]]) or that live in other
// libraries (libc, libm, libgomp). An out-of-line inline function shared with other files could be
// kept by the linker in its AVX-512 copy and then run on a CPU without AVX-512.
//
// Selection (dispatch.cpp), once, on first use: GPT_KERNELS=avx512|avx2|portable forces a path (an
// unsupported one is an error); otherwise the best the CPU supports (__builtin_cpu_supports). GPT_GEMM=
// openblas keeps the chosen path's loops but computes products with cblas_sgemm. Tests switch paths with
// set_kernel_path().
//
// Determinism: every path sums each output in an order that does not depend on the thread count, so a
// path is bitwise reproducible across 1, 2, … threads. Different paths round differently (vector width,
// FMA contraction, own SGEMM vs OpenBLAS): resuming a checkpoint on a machine that picks another path
// continues correctly but differs in the last bits from an uninterrupted run.
#pragma once

#include <cstdint>
#include <vector>

namespace gpt {

enum class KernelPath { portable, avx2, avx512 };

// The path in use (selected on the first call), its name ("avx512", "avx2", "portable").
KernelPath kernel_path();
const char* kernel_path_name();
const char* kernel_path_name(KernelPath path);
// Whether this CPU can run `path`; the paths it can run, best first.
bool kernel_path_supported(KernelPath path);
std::vector<KernelPath> supported_kernel_paths();
// Switch paths (tests, benchmarks). Throws std::runtime_error when the CPU cannot run it. Not thread-safe
// against kernels running at the same time.
void set_kernel_path(KernelPath path);

namespace kernels {

// The float32 scalars of one AdamW step (optim/adamw.cpp computes them).
struct AdamWScalars {
    float decay;  // 1 − lr·wd
    float beta1, one_minus_beta1;
    float beta2, one_minus_beta2;
    float bias_correction2_sqrt;
    float eps;
    float neg_step_size;  // −lr / (1 − β1^t)
    float grad_scale;     // gradient clipping's coefficient, applied as the gradient is read (1: none)
};

struct Table {
    KernelPath path;
    // C = op(A)·op(B) + beta·C, or + bias[N] on every row when bias is not null (gemm.h's contract);
    // null on the portable path (OpenBLAS).
    void (*sgemm)(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda,
                  const float* B, int64_t ldb, float beta, const float* bias, float* C, int64_t ldc) = nullptr;
    // B packed once for several products (gemm.h PackedB); null on the portable path. packed_b_floats:
    // the buffer pack_b must be given (64-byte aligned); sgemm_packed: C = op(A)·op(B)[0:K, 0:N] + beta·C
    // over the leading K ≤ packed_K rows and N ≤ packed_N columns of what was packed.
    int64_t (*packed_b_floats)(int64_t N, int64_t K) = nullptr;
    void (*pack_b)(bool trans_b, const float* B, int64_t ldb, int64_t N, int64_t K, float* packed) = nullptr;
    void (*sgemm_packed)(bool trans_a, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda,
                         const float* packed, int64_t packed_N, int64_t packed_K, float beta, float* C, int64_t ldc) = nullptr;
    // y = gelu(x) and dx += dy·gelu'(x) over n elements (autograd/ops/gelu.cpp), parallel inside.
    void (*gelu_forward)(const float* x, float* y, int64_t n) = nullptr;
    void (*gelu_backward)(const float* x, const float* dy, float* dx, int64_t n, bool assign) = nullptr;  // dx = or += …
    // dpre = dy·gelu'(pre) over [rows, cols] and db[j] += Σ_rows dpre[·, j] (db may be null) in one pass,
    // split by blocks of `block` columns (parallel when asked): linear_gelu's backward before its products.
    void (*gelu_backward_columns)(const float* pre, const float* dy, float* dpre, float* db, int64_t rows,
                                  int64_t cols, int64_t block, bool parallel) = nullptr;
    // LayerNorm forward over N rows of C (w, b may be null), saving mean and rstd per row; parallel inside.
    void (*layer_norm_forward)(const float* x, const float* w, const float* b, float* y, float* mean, float* rstd,
                               int64_t N, int64_t C, float eps) = nullptr;
    // Its backward (dx = or += …, dw and db added into; any may be null), parallel when asked.
    void (*layer_norm_backward)(const float* x, const float* w, const float* mean, const float* rstd, const float* dy,
                                float* dx, bool dx_add, float* dw, float* db, int64_t N, int64_t C,
                                bool parallel) = nullptr;
    // The residual add fused with that LayerNorm (add_layer_norm): s = x + y, out = LayerNorm(s), saving
    // mean and rstd; the same bits as the add then layer_norm_forward.
    void (*add_layer_norm_forward)(const float* x, const float* y, const float* w, const float* b, float* s, float* out,
                                   float* mean, float* rstd, int64_t N, int64_t C, float eps) = nullptr;
    // Its backward: d = dsum (null: none) + LayerNorm's input gradient from dnorm (null: none), then
    // dx = or += d and dy = or += d; dw, db added into; dx, dy, dw, db may be null.
    void (*add_layer_norm_backward)(const float* s, const float* w, const float* mean, const float* rstd,
                                    const float* dnorm, const float* dsum, float* dx, bool dx_add, float* dy,
                                    bool dy_add, float* dw, float* db, int64_t N, int64_t C, bool parallel) = nullptr;
    // Attention's causal softmax of one row in place: s[0..i] scaled, softmaxed; s[i+1..end) zeroed.
    void (*softmax_causal_row)(float* s, int64_t i, int64_t end, float scale) = nullptr;
    // The same over s[0..n) where padded[j] != 0 excludes key j: excluded entries and s[n..end) become 0;
    // a row with every key excluded becomes all zeros (attention's key padding mask).
    void (*softmax_padded_row)(float* s, const uint8_t* padded, int64_t n, int64_t end, float scale) = nullptr;
    // One AdamW step over n elements (PyTorch's operation order, with FMAs), parallel inside.
    void (*adamw_update)(float* p, const float* g, float* m, float* v, int64_t n, const AdamWScalars& s) = nullptr;
    // Σ_j exp(x[j] − shift) over n (a fixed vector-lane order) and out[j] += scale·exp(x[j] − shift): the
    // rows of cross-entropy's log-sum-exp and its gradient (autograd/ops/cross_entropy.cpp).
    float (*row_sum_exp)(const float* x, int64_t n, float shift) = nullptr;
    void (*row_add_scaled_exp)(const float* x, int64_t n, float shift, float scale, float* out) = nullptr;
    // y[M, N] = x[M, K]·Wᵀ (+ bias[N] when not null) with W [N, K] stored as bf16 (autograd/bf16.h: the
    // high halves of float32s, widened in registers), accumulated in float32: linear_bf16's product for
    // a few rows (generation at batch 1: M = 1). Each output is summed in one fixed order (four vector
    // accumulators of the path's width, combined, lanes added in a fixed tree, then the k tail, then the
    // bias): the same bits for any M and thread count. Parallel over N inside, W streamed in order.
    void (*linear_bf16)(const float* x, int64_t M, int64_t K, const uint16_t* w, int64_t N, const float* bias,
                        float* y) = nullptr;
};

// The table of the path in use.
const Table& table();

// One per path (defined in kernels_<isa>.cpp).
const Table& avx512_table();
const Table& avx2_table();
const Table& portable_table();

}  // namespace kernels

}  // namespace gpt
