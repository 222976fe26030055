// sgemm(): the kernel path's own packed SGEMM (autograd/kernels/impl_sgemm.h, one micro-kernel per
// ISA) or OpenBLAS (portable path, or GPT_GEMM=openblas).
//
// OpenBLAS threads a product its own way, and its results change with the thread count. So that the
// portable path is as reproducible as the others, sgemm() cuts C into fixed tiles (kTileM × kTileN,
// whatever the thread count), computes each with one single-threaded cblas_sgemm call (OpenBLAS's
// OpenMP build runs single-threaded inside an active parallel region, and with one thread in all), and
// shares the tiles among the threads. An element's value then depends only on its tile's shape.
// sgemm_openblas() is the plain call (the reference in tests and gpt_bench).
#include "autograd/ops/gemm.h"

#include <cblas.h>
#include <omp.h>

#include <algorithm>
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

constexpr int64_t kTileM = 128, kTileN = 512;

void sgemm_openblas_tiled(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda,
                          const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
    const int64_t tiles_m = (M + kTileM - 1) / kTileM, tiles_n = (N + kTileN - 1) / kTileN;
    const int64_t tiles = tiles_m * tiles_n;
    auto tile = [&](int64_t t) {
        const int64_t i0 = t / tiles_n * kTileM, j0 = t % tiles_n * kTileN;
        const float* a = trans_a ? A + i0 : A + i0 * lda;  // op(A) rows i0…
        const float* b = trans_b ? B + j0 * ldb : B + j0;  // op(B) columns j0…
        sgemm_openblas(trans_a, trans_b, std::min(kTileM, M - i0), std::min(kTileN, N - j0), K, a, lda, b, ldb, beta,
                       C + i0 * ldc + j0, ldc);
    };
    const int threads = omp_get_max_threads();
    if (threads == 1 || omp_in_parallel()) {  // OpenBLAS is single-threaded here already
        for (int64_t t = 0; t < tiles; ++t) tile(t);
        return;
    }
    // Always an active region (even for one tile), so that no call runs OpenBLAS's own threading.
#pragma omp parallel for schedule(static) num_threads(threads)
    for (int64_t t = 0; t < tiles; ++t) tile(t);
}

}  // namespace

bool sgemm_is_own_kernel() { return !openblas_forced() && kernels::table().sgemm != nullptr; }

void sgemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B,
           int64_t ldb, float beta, float* C, int64_t ldc) {
    const auto own = kernels::table().sgemm;
    if (own && !openblas_forced()) return own(trans_a, trans_b, M, N, K, A, lda, B, ldb, beta, nullptr, C, ldc);
    sgemm_openblas_tiled(trans_a, trans_b, M, N, K, A, lda, B, ldb, beta, C, ldc);
}

void PackedB::pack(bool trans_b, int64_t N, int64_t K, const float* B, int64_t ldb) {
    trans_b_ = trans_b;
    N_ = N;
    K_ = K;
    B_ = B;
    ldb_ = ldb;
    packed_by_ = nullptr;
    const kernels::Table& table = kernels::table();
    if (!table.sgemm_packed || openblas_forced()) return;
    const int64_t floats = table.packed_b_floats(N, K);
    if (!packed_ || packed_->size < floats) {
        packed_.reset();  // back to the storage cache before a larger one is taken
        packed_ = std::make_unique<Storage>(floats);
    }
    table.pack_b(trans_b, B, ldb, N, K, packed_->data);
    packed_by_ = &table;
}

void PackedB::multiply(bool trans_a, int64_t M, int64_t n, int64_t k, const float* A, int64_t lda, float beta,
                       float* C, int64_t ldc) const {
    const kernels::Table& table = kernels::table();
    if (packed_by_ == &table && !openblas_forced())  // packed, and the path has not changed since
        return table.sgemm_packed(trans_a, M, n, k, A, lda, packed_->data, N_, K_, beta, C, ldc);
    sgemm(trans_a, trans_b_, M, n, k, A, lda, B_, ldb_, beta, C, ldc);
}

void sgemm_bias(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda,
                const float* B, int64_t ldb, const float* bias, float* C, int64_t ldc) {
    const auto own = kernels::table().sgemm;
    if (own && !openblas_forced()) return own(trans_a, trans_b, M, N, K, A, lda, B, ldb, 1.0f, bias, C, ldc);
#pragma omp parallel for schedule(static) if (M * N >= (int64_t(1) << 15) && !omp_in_parallel())
    for (int64_t i = 0; i < M; ++i) std::copy_n(bias, N, C + i * ldc);
    sgemm_openblas_tiled(trans_a, trans_b, M, N, K, A, lda, B, ldb, 1.0f, C, ldc);
}

}  // namespace gpt
