// sgemm(): the kernel path's own packed SGEMM (autograd/kernels/kernels_impl.h, one micro-kernel per
// ISA) or OpenBLAS (portable path, or GPT_GEMM=openblas).
#include "autograd/ops/gemm.h"

#include <cblas.h>

#include <cstdlib>
#include <cstring>

#include "autograd/kernels/kernels.h"

namespace gpt {

void sgemm_openblas(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda,
                    const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
    if (M == 0 || N == 0) return;
    if (K == 0) {  // C = beta·C; cblas would reject lda/ldb < 1
        if (beta == 0.0f)
            for (int64_t i = 0; i < M; ++i) std::memset(C + i * ldc, 0, static_cast<size_t>(N) * sizeof(float));
        return;
    }
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
                static_cast<int>(M), static_cast<int>(N), static_cast<int>(K), 1.0f, A, static_cast<int>(lda), B,
                static_cast<int>(ldb), beta, C, static_cast<int>(ldc));
}

namespace {

bool openblas_forced() {
    static const bool forced = [] {
        const char* env = std::getenv("GPT_GEMM");
        return env && std::strcmp(env, "openblas") == 0;
    }();
    return forced;
}

}  // namespace

bool sgemm_is_own_kernel() { return !openblas_forced() && kernels::table().sgemm != nullptr; }

void sgemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B,
           int64_t ldb, float beta, float* C, int64_t ldc) {
    const auto own = kernels::table().sgemm;
    if (own && !openblas_forced()) return own(trans_a, trans_b, M, N, K, A, lda, B, ldb, beta, C, ldc);
    sgemm_openblas(trans_a, trans_b, M, N, K, A, lda, B, ldb, beta, C, ldc);
}

}  // namespace gpt
