// The matrix product behind linear and matmul (private to autograd/ops/):
//   C[M, N] = op(A)·op(B) + beta·C,  row-major, op = transpose or not, beta 0 or 1.
// With AVX-512 (compiled with -march=native on a CPU that has it) this is the project's own packed
// kernel (gemm.cpp); otherwise, or when GPT_GEMM=openblas is set in the environment, it is
// cblas_sgemm. Why our own: this machine's OpenBLAS is pinned to its AVX2 (Haswell) kernels by
// OPENBLAS_CORETYPE, about half of what the AVX-512 units can do.
//
// Determinism: each element of C is summed by one thread in the same order (K in fixed blocks) whatever
// the thread count, so results are bitwise identical for 1, 2, … threads.
#pragma once

#include <cstdint>

namespace gpt {

void sgemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B,
           int64_t ldb, float beta, float* C, int64_t ldc);

// Always OpenBLAS (the reference the own kernel is checked against in gpt_bench's sgemm mode).
void sgemm_openblas(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda,
                    const float* B, int64_t ldb, float beta, float* C, int64_t ldc);

// True when sgemm() uses the own AVX-512 kernel.
bool sgemm_is_own_kernel();

}  // namespace gpt
