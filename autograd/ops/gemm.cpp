// Packed AVX-512 SGEMM (the BLIS/GotoBLAS scheme, one micro-kernel):
//   for each K block of KC:   pack op(B)[kc, N] into NR-wide column panels (k-major, zero-padded)
//                             pack op(A)[M, kc] into MR-tall row panels (k-major, zero-padded)
//     parallel over (MR·kMPanels × NR·kNPanels) tiles of C: 12×32 micro-kernel, 24 zmm accumulators
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
constexpr int64_t kMPanels = 8;      // a tile is 96 rows × 128 columns of C
constexpr int64_t kNPanels = 4;

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

}  // namespace

bool sgemm_is_own_kernel() { return own_kernel_enabled(); }

void sgemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B,
           int64_t ldb, float beta, float* C, int64_t ldc) {
    if (M == 0 || N == 0 || K == 0) return;
    if (!own_kernel_enabled()) return sgemm_openblas(trans_a, trans_b, M, N, K, A, lda, B, ldb, beta, C, ldc);
    if (beta == 0.0f)
        for (int64_t i = 0; i < M; ++i) std::fill_n(C + i * ldc, N, 0.0f);
    const int64_t m_panels = (M + MR - 1) / MR, n_panels = (N + NR - 1) / NR;
    const int64_t m_tiles = (m_panels + kMPanels - 1) / kMPanels, n_tiles = (n_panels + kNPanels - 1) / kNPanels;
    // Packed panels of one K block; reused across calls (the tape calls from one thread).
    static thread_local AlignedBuffer a_buffer, b_buffer;
    float* a_packed = a_buffer.get(m_panels * MR * KC);
    float* b_packed = b_buffer.get(n_panels * NR * KC);
    // Parallel only when each thread gets real work: ~1 MFLOP per tile.
    const bool parallel = M * N * K >= (int64_t(1) << 19) && omp_get_max_threads() > 1;
    for (int64_t k0 = 0; k0 < K; k0 += KC) {
        const int64_t kc = std::min(KC, K - k0);
#pragma omp parallel if (parallel)
        {
#pragma omp for schedule(static) nowait
            for (int64_t p = 0; p < m_panels; ++p) pack_a(trans_a, A, lda, M, p * MR, k0, kc, a_packed + p * MR * kc);
#pragma omp for schedule(static)
            for (int64_t p = 0; p < n_panels; ++p) pack_b(trans_b, B, ldb, N, p * NR, k0, kc, b_packed + p * NR * kc);
#pragma omp for schedule(static) collapse(2)
            for (int64_t tm = 0; tm < m_tiles; ++tm)
                for (int64_t tn = 0; tn < n_tiles; ++tn) {
                    alignas(64) float edge[MR * NR];
                    for (int64_t pm = tm * kMPanels; pm < std::min(m_panels, (tm + 1) * kMPanels); ++pm)
                        for (int64_t pn = tn * kNPanels; pn < std::min(n_panels, (tn + 1) * kNPanels); ++pn) {
                            const int64_t i0 = pm * MR, j0 = pn * NR;
                            const float* a = a_packed + pm * MR * kc;
                            const float* b = b_packed + pn * NR * kc;
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
