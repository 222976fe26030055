// The matrix product behind linear and matmul (private to autograd/ops/):
//   C[M, N] = op(A)·op(B) + beta·C,  row-major, op = transpose or not, beta 0 or 1.
// On the AVX-512 and AVX2 kernel paths this is the project's own packed kernel (autograd/kernels/,
// chosen at run time: see kernels.h); on the portable path, or when GPT_GEMM=openblas is set in the
// environment, it is cblas_sgemm.
//
// Determinism: each element of C is summed by one thread in the same order (K in fixed blocks) whatever
// the thread count, so results are bitwise identical for 1, 2, … threads (on a given path).
#pragma once

#include <cstdint>
#include <memory>

#include "autograd/tensor.h"

namespace gpt {

void sgemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B,
           int64_t ldb, float beta, float* C, int64_t ldc);

// C[M, N] = op(A)·op(B) + bias[N] on every row: linear's forward. The own kernels add the bias as they
// store C's first K block (no pass filling C with the bias first); OpenBLAS gets C filled with the bias
// and beta 1. The same bits as that fill followed by sgemm(…, beta 1, …) on every path.
void sgemm_bias(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda,
                const float* B, int64_t ldb, const float* bias, float* C, int64_t ldc);

// op(B) [K, N] packed once for several products that each read its leading k ≤ K rows and n ≤ N
// columns: attention packs a head's keys and values once instead of once per block of queries. The
// products give the same bits as sgemm() on the same operands (the packing is a copy). On the portable
// path (or GPT_GEMM=openblas) nothing is packed: the products call sgemm() on B itself. Not thread-safe
// to pack while another thread multiplies; one per thread.
class PackedB {
public:
    void pack(bool trans_b, int64_t N, int64_t K, const float* B, int64_t ldb);
    // C[M, n] = op(A)[M, k]·op(B)[0:k, 0:n] + beta·C, with n ≤ N, k ≤ K of the last pack().
    void multiply(bool trans_a, int64_t M, int64_t n, int64_t k, const float* A, int64_t lda, float beta, float* C,
                  int64_t ldc) const;

private:
    bool trans_b_ = false;
    int64_t N_ = 0, K_ = 0, ldb_ = 0;
    const float* B_ = nullptr;
    std::unique_ptr<Storage> packed_;  // 64-byte aligned (the micro-kernels load panels aligned), grown as needed
    const void* packed_by_ = nullptr;  // the kernel table whose layout packed_ holds; null: not packed
};

// Always OpenBLAS (the reference the own kernels are checked against in tests and gpt_bench's sgemm mode).
void sgemm_openblas(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda,
                    const float* B, int64_t ldb, float beta, float* C, int64_t ldc);

// True when sgemm() uses an own kernel (AVX-512 or AVX2 path, GPT_GEMM not openblas).
bool sgemm_is_own_kernel();

}  // namespace gpt
