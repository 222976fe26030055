// Packed AVX-512 SGEMM (the BLIS/GotoBLAS scheme, one micro-kernel):
//   C is split along its longer side into one part per thread; each thread, for each K block of KC:
//     packs the op(A) rows of its part into MR-tall panels and the op(B) columns into NR-wide panels
//     (k-major, zero-padded), then runs the 12×32 micro-kernel (24 zmm accumulators) over its tiles.
// A thread packs everything it reads itself (with a split along M each thread packs all of B: K·N extra
// copies against M·N·K/threads multiply-adds), so a product has one parallel region and no barrier
// inside: on a shared 2-core machine every barrier waits for the slowest (possibly preempted) thread.
// The first K block applies the caller's beta, later ones accumulate; the K order never depends on the
// thread count (see gemm.h). Transposes only change how the packing reads A and B.
#include "autograd/ops/gemm.h"

#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <vector>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace gpt {

void sgemm_openblas(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda,
                    const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
    if (M == 0 || N == 0 || K == 0) return;
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
                static_cast<int>(M), static_cast<int>(N), static_cast<int>(K), 1.0f, A, static_cast<int>(lda), B,
                static_cast<int>(ldb), beta, C, static_cast<int>(ldc));
}

#if defined(__AVX512F__)
namespace {

constexpr int64_t MR = 12, NR = 32;  // micro-tile: 12 rows × 2 zmm
constexpr int64_t KC = 256;          // K block: a B panel (256×32 floats, 32 KB) stays in L1
constexpr int64_t kMPanels = 8;      // A panels per group (96 rows) swept against each B panel

// c[0:12, 0:32] (+)= a_panel[k][12] · b_panel[k][32] over k < kc.
inline void micro_kernel(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, bool accumulate) {
    __m512 acc[MR][2];
    for (int64_t r = 0; r < MR; ++r) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
    for (int64_t k = 0; k < kc; ++k) {
        const __m512 b0 = _mm512_load_ps(b + k * NR);
        const __m512 b1 = _mm512_load_ps(b + k * NR + 16);
        const float* ak = a + k * MR;
#pragma GCC unroll 12
        for (int64_t r = 0; r < MR; ++r) {
            const __m512 ar = _mm512_set1_ps(ak[r]);
            acc[r][0] = _mm512_fmadd_ps(ar, b0, acc[r][0]);
            acc[r][1] = _mm512_fmadd_ps(ar, b1, acc[r][1]);
        }
    }
    for (int64_t r = 0; r < MR; ++r) {
        float* cr = c + r * ldc;
        if (accumulate) {
            acc[r][0] = _mm512_add_ps(acc[r][0], _mm512_loadu_ps(cr));
            acc[r][1] = _mm512_add_ps(acc[r][1], _mm512_loadu_ps(cr + 16));
        }
        _mm512_storeu_ps(cr, acc[r][0]);
        _mm512_storeu_ps(cr + 16, acc[r][1]);
    }
}

// op(A)[i, k] for rows [i0, i0+MR) and k in [k0, k0+kc) → panel[k][MR], zero rows past M.
void pack_a(bool trans, const float* A, int64_t lda, int64_t M, int64_t i0, int64_t k0, int64_t kc, float* panel) {
    const int64_t rows = std::min(MR, M - i0);
    if (trans) {  // A stored [K, M]: row k holds op(A)[:, k] contiguously
        for (int64_t k = 0; k < kc; ++k) {
            const float* src = A + (k0 + k) * lda + i0;
            float* dst = panel + k * MR;
            for (int64_t r = 0; r < rows; ++r) dst[r] = src[r];
            for (int64_t r = rows; r < MR; ++r) dst[r] = 0.0f;
        }
    } else {
        for (int64_t r = 0; r < MR; ++r) {
            if (r < rows) {
                const float* src = A + (i0 + r) * lda + k0;
                for (int64_t k = 0; k < kc; ++k) panel[k * MR + r] = src[k];
            } else {
                for (int64_t k = 0; k < kc; ++k) panel[k * MR + r] = 0.0f;
            }
        }
    }
}

// op(B)[k, j] for columns [j0, j0+NR) and k in [k0, k0+kc) → panel[k][NR], zero columns past N.
void pack_b(bool trans, const float* B, int64_t ldb, int64_t N, int64_t j0, int64_t k0, int64_t kc, float* panel) {
    const int64_t cols = std::min(NR, N - j0);
    if (!trans) {  // B stored [K, N]
        for (int64_t k = 0; k < kc; ++k) {
            const float* src = B + (k0 + k) * ldb + j0;
            float* dst = panel + k * NR;
            for (int64_t j = 0; j < cols; ++j) dst[j] = src[j];
            for (int64_t j = cols; j < NR; ++j) dst[j] = 0.0f;
        }
    } else {  // B stored [N, K]
        for (int64_t j = 0; j < NR; ++j) {
            if (j < cols) {
                const float* src = B + (j0 + j) * ldb + k0;
                for (int64_t k = 0; k < kc; ++k) panel[k * NR + j] = src[k];
            } else {
                for (int64_t k = 0; k < kc; ++k) panel[k * NR + j] = 0.0f;
            }
        }
    }
}

struct AlignedBuffer {
    float* data = nullptr;
    int64_t size = 0;
    float* get(int64_t n) {
        if (n > size) {
            std::free(data);
            data = static_cast<float*>(std::aligned_alloc(64, static_cast<size_t>((n + 15) / 16 * 16) * sizeof(float)));
            if (!data) throw std::bad_alloc();
            size = n;
        }
        return data;
    }
    ~AlignedBuffer() { std::free(data); }
};

bool own_kernel_enabled() {
    static const bool enabled = [] {
        const char* env = std::getenv("GPT_GEMM");
        return !(env && std::strcmp(env, "openblas") == 0);
    }();
    return enabled;
}

// One thread's share of C: M panels [pm0, pm1) × N panels [pn0, pn1), over every K block in order.
// It packs what it reads into its own buffers, so threads never wait for each other inside a product.
void sgemm_part(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda,
                const float* B, int64_t ldb, float* C, int64_t ldc, int64_t pm0, int64_t pm1, int64_t pn0,
                int64_t pn1) {
    static thread_local AlignedBuffer a_buffer, b_buffer;  // packed panels, reused across calls
    float* a_packed = a_buffer.get((pm1 - pm0) * MR * KC);
    float* b_packed = b_buffer.get((pn1 - pn0) * NR * KC);
    alignas(64) float edge[MR * NR];
    for (int64_t k0 = 0; k0 < K; k0 += KC) {
        const int64_t kc = std::min(KC, K - k0);
        for (int64_t p = pm0; p < pm1; ++p) pack_a(trans_a, A, lda, M, p * MR, k0, kc, a_packed + (p - pm0) * MR * kc);
        for (int64_t p = pn0; p < pn1; ++p) pack_b(trans_b, B, ldb, N, p * NR, k0, kc, b_packed + (p - pn0) * NR * kc);
        // Groups of kMPanels A panels (~96 KB, in L2) against each B panel (32 KB, in L1).
        for (int64_t g0 = pm0; g0 < pm1; g0 += kMPanels)
            for (int64_t pn = pn0; pn < pn1; ++pn)
                for (int64_t pm = g0; pm < std::min(pm1, g0 + kMPanels); ++pm) {
                    const int64_t i0 = pm * MR, j0 = pn * NR;
                    const float* a = a_packed + (pm - pm0) * MR * kc;
                    const float* b = b_packed + (pn - pn0) * NR * kc;
                    if (i0 + MR <= M && j0 + NR <= N) {
                        micro_kernel(kc, a, b, C + i0 * ldc + j0, ldc, true);
                    } else {  // edge tile: compute into a scratch tile, add the valid part
                        micro_kernel(kc, a, b, edge, NR, false);
                        const int64_t rows = std::min(MR, M - i0), cols = std::min(NR, N - j0);
                        for (int64_t r = 0; r < rows; ++r)
                            for (int64_t j = 0; j < cols; ++j) C[(i0 + r) * ldc + j0 + j] += edge[r * NR + j];
                    }
                }
    }
}

}  // namespace

bool sgemm_is_own_kernel() { return own_kernel_enabled(); }

void sgemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B,
           int64_t ldb, float beta, float* C, int64_t ldc) {
    if (M == 0 || N == 0 || K == 0) return;
    if (!own_kernel_enabled()) return sgemm_openblas(trans_a, trans_b, M, N, K, A, lda, B, ldb, beta, C, ldc);
    if (beta == 0.0f)
        for (int64_t i = 0; i < M; ++i) std::fill_n(C + i * ldc, N, 0.0f);
    const int64_t m_panels = (M + MR - 1) / MR, n_panels = (N + NR - 1) / NR;
    // Parallel only with real work per thread; C is split along its longer side, one part per thread,
    // each packing its own panels: one parallel region and no barrier inside a product.
    // Inside another parallel region (attention's per-head tasks) it runs on the calling thread.
    const int64_t threads = M * N * K >= (int64_t(1) << 20) && !omp_in_parallel() ? omp_get_max_threads() : 1;
    const bool split_m = m_panels * MR >= n_panels * NR;
#pragma omp parallel num_threads(static_cast<int>(threads)) if (threads > 1)
    {
        const int64_t t = omp_get_thread_num(), n = omp_get_num_threads();
        const int64_t panels = split_m ? m_panels : n_panels;
        const int64_t p0 = panels * t / n, p1 = panels * (t + 1) / n;
        if (p1 > p0) {
            if (split_m)
                sgemm_part(trans_a, trans_b, M, N, K, A, lda, B, ldb, C, ldc, p0, p1, 0, n_panels);
            else
                sgemm_part(trans_a, trans_b, M, N, K, A, lda, B, ldb, C, ldc, 0, m_panels, p0, p1);
        }
    }
}

#else  // no AVX-512 at compile time: OpenBLAS

bool sgemm_is_own_kernel() { return false; }

void sgemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B,
           int64_t ldb, float beta, float* C, int64_t ldc) {
    sgemm_openblas(trans_a, trans_b, M, N, K, A, lda, B, ldb, beta, C, ldc);
}

#endif

}  // namespace gpt
