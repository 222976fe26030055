// The loops of one kernel path, written once and compiled once per ISA (see kernels.h): SGEMM, GELU,
// LayerNorm forward, the causal softmax row, AdamW, the exp rows of cross-entropy and the product with
// bf16 weights. Included only by kernels_<isa>.cpp, after it defines GPT_KERNEL_NS (a namespace name)
// and GPT_KERNEL_PATH, and, where the path has its own SGEMM (GPT_KERNEL_HAS_SGEMM), MR, NR, KC and
// micro_kernel() in gpt::kernels::GPT_KERNEL_NS's anonymous namespace.
//
// Packed SGEMM (the BLIS/GotoBLAS scheme, one micro-kernel):
//   C is split along its longer side into one part per thread; each thread, for each K block of KC:
//     packs the op(A) rows of its part into MR-tall panels and the op(B) columns into NR-wide panels
//     (k-major, zero-padded), then runs the MR×NR micro-kernel over its tiles.
// A thread packs everything it reads itself (with a split along M each thread packs all of B: K·N extra
// copies against M·N·K/threads multiply-adds), so a product has one parallel region and no barrier
// inside: on a shared 2-core machine every barrier waits for the slowest (possibly preempted) thread.
// The first K block applies the caller's beta, later ones accumulate; the K order never depends on the
// thread count (each element of C is summed by one thread in the same order), so results are bitwise
// identical for 1, 2, … threads. Transposes only change how the packing reads A and B.
//
// The other loops are the plain C++ the op files had, vectorised by the compiler for this file's ISA.
// Sums are not reordered except in the `omp simd` reductions (fixed lanes per ISA) and LayerNorm's row
// sums (16 fixed partial sums on every ISA: lane_sum), so every path is independent of the thread count.
// These files are compiled with -ffp-contract=off (CMakeLists.txt): only the FMAs written out (std::fma,
// intrinsics) are fused, so GELU, LayerNorm (forward and backward, alone or fused with the residual add)
// and AdamW give the same bits on every path (AdamW PyTorch's); the paths differ in the `omp simd`
// reductions (softmax and cross-entropy row sums: vector width) and in the SGEMMs' blocking.
#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdlib>
#include <new>
#include <utility>
#include <vector>

#include "autograd/kernels/kernels.h"
#include "autograd/ops/fast_math.h"

#if !defined(GPT_KERNEL_NS) || !defined(GPT_KERNEL_PATH)
#error "kernels_impl.h is included by kernels_<isa>.cpp only"
#endif

namespace gpt::kernels::GPT_KERNEL_NS {

namespace {

// Below this many elements a parallel region costs more than it saves (as in autograd/ops).
constexpr int64_t kElementwiseParallel = 1 << 14;

// GELU (tanh approximation in its σ form; autograd/ops/gelu.cpp explains the formulas): one value and
// its derivative, the one place they are written (gelu's loops and linear_gelu's backward call them).
constexpr float kSqrt2OverPi = 0.7978845608028654f;
constexpr float kCubic = 0.044715f;
constexpr float kMaxExponent = 80.0f;

[[gnu::always_inline]] inline float gelu_value(float v) {
    const float u = kSqrt2OverPi * (v + kCubic * v * v * v);
    const float e = -2.0f * u;
    return v / (1.0f + fast_math::exp(kMaxExponent < e ? kMaxExponent : e));  // std::min(e, kMax)
}

// dy·gelu'(v).
[[gnu::always_inline]] inline float gelu_grad(float v, float dy) {
    const float u = kSqrt2OverPi * (v + kCubic * v * v * v);
    const float m2u = -2.0f * u;
    const float e = fast_math::exp(kMaxExponent < m2u ? kMaxExponent : m2u);
    const float sig = 1.0f / (1.0f + e);
    const float du_dx = kSqrt2OverPi * (1.0f + 3.0f * kCubic * v * v);
    return dy * (sig + 2.0f * v * sig * (e * sig) * du_dx);
}

#if GPT_KERNEL_HAS_SGEMM

// The transposing pack: panel[k·W + r] = src[r·ld + k] for r < rows (0 for rows ≤ r < W), k < kc. Blocks of
// 8 rows × 8 k are loaded as 8 row vectors and transposed in registers (unpack, shuffle, lane permute:
// 24 instructions for 64 floats), then written as 8 column pieces of min(8, W − r0) floats. Element by
// element (a strided load and a store per float) the packs took 15.7 % of `baby`'s cycles on the AVX2
// path and 12.4 % of `small`'s on AVX-512; 12.1 and 10.2 % this way (perf, 1 thread): what is left is
// mostly the cache misses of reading A and B. A copy, so no bit of a product changes.
inline void transpose8(__m256 (&v)[8]) {
    const __m256 t0 = _mm256_unpacklo_ps(v[0], v[1]), t1 = _mm256_unpackhi_ps(v[0], v[1]);
    const __m256 t2 = _mm256_unpacklo_ps(v[2], v[3]), t3 = _mm256_unpackhi_ps(v[2], v[3]);
    const __m256 t4 = _mm256_unpacklo_ps(v[4], v[5]), t5 = _mm256_unpackhi_ps(v[4], v[5]);
    const __m256 t6 = _mm256_unpacklo_ps(v[6], v[7]), t7 = _mm256_unpackhi_ps(v[6], v[7]);
    const __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    const __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    const __m256 s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xEE);
    const __m256 s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    v[0] = _mm256_permute2f128_ps(s0, s4, 0x20);  // column 0: v[0][0], v[1][0], …, v[7][0]
    v[1] = _mm256_permute2f128_ps(s1, s5, 0x20);
    v[2] = _mm256_permute2f128_ps(s2, s6, 0x20);
    v[3] = _mm256_permute2f128_ps(s3, s7, 0x20);
    v[4] = _mm256_permute2f128_ps(s0, s4, 0x31);
    v[5] = _mm256_permute2f128_ps(s1, s5, 0x31);
    v[6] = _mm256_permute2f128_ps(s2, s6, 0x31);
    v[7] = _mm256_permute2f128_ps(s3, s7, 0x31);
}

// The first n ∈ {4, 6, 8} floats of v at p (the widths 6, 12, 16 and 32 cut into pieces of 8 give these).
template <int64_t n>
inline void store_first(float* p, __m256 v) {
    static_assert(n == 4 || n == 6 || n == 8, "a panel width of 6, 12, 16 or 32");
    if constexpr (n == 8) {
        _mm256_storeu_ps(p, v);
    } else {
        _mm_storeu_ps(p, _mm256_castps256_ps128(v));
        if constexpr (n == 6) _mm_storel_pi(reinterpret_cast<__m64*>(p + 4), _mm256_extractf128_ps(v, 1));
    }
}

template <int64_t W>
void pack_transposed(const float* src, int64_t ld, int64_t rows, int64_t kc, float* panel) {
    int64_t k0 = 0;
    for (; k0 + 8 <= kc; k0 += 8) {
        auto group = [&]<int64_t r0>() {
            __m256 v[8];
            for (int64_t i = 0; i < 8; ++i)
                v[i] = r0 + i < rows ? _mm256_loadu_ps(src + (r0 + i) * ld + k0) : _mm256_setzero_ps();
            transpose8(v);
            for (int64_t j = 0; j < 8; ++j) store_first<std::min<int64_t>(8, W - r0)>(panel + (k0 + j) * W + r0, v[j]);
        };
        [&]<int64_t... g>(std::integer_sequence<int64_t, g...>) {
            (group.template operator()<g * 8>(), ...);
        }(std::make_integer_sequence<int64_t, (W + 7) / 8>{});
    }
    for (; k0 < kc; ++k0) {  // the last kc mod 8 columns
        float* dst = panel + k0 * W;
        for (int64_t r = 0; r < rows; ++r) dst[r] = src[r * ld + k0];
        for (int64_t r = rows; r < W; ++r) dst[r] = 0.0f;
    }
}

// op(A)[i, k] for rows [i0, i0+MR) and k in [k0, k0+kc) → panel[k][MR], zero rows past M. Both branches
// write the panel in order (k-major): with A stored [M, K] the MR rows are read as MR sequential streams;
// writing each row's kc values at a stride of MR instead made the AVX-512 products ~10 % slower.
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
        pack_transposed<MR>(A + i0 * lda + k0, lda, rows, kc, panel);
    }
}

// op(B)[k, j] for columns [j0, j0+NR) and k in [k0, k0+kc) → panel[k][NR], zero columns past N, written in
// order as pack_a (with B stored [N, K]: NR sequential streams).
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
        pack_transposed<NR>(B + j0 * ldb + k0, ldb, cols, kc, panel);
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

// B panels packed at a time: a chunk of about 512 KB (16 AVX-512 or 32 AVX2 panels at KC = 256), so that
// the chunk stays in L2 while every A group sweeps it. Without chunks a wide product (GPT-2's head: N =
// 50304, 50 MB of packed B per K block) streamed all of B from memory once per A group.
constexpr int64_t kNPanels = std::max<int64_t>(1, (int64_t(1) << 19) / (NR * KC * int64_t(sizeof(float))));

// One thread's share of C: M panels [pm0, pm1) × N panels [pn0, pn1), over every K block in order.
// Per K block: pack the part's A panels; then per chunk of kNPanels B panels: pack it, and run each A
// panel (MR×kc, the broadcast side: 6–12 KB, stays in L1) against every B panel of the chunk (the vector
// side, streamed from L2), as BLIS does. The other order (a B panel of 16–32 KB held in L1 against
// groups of A panels) left the AVX-512 path's 32 KB B panel fighting the A stream for a 48 KB L1:
// products ~10–20 % slower. Each element of C still receives its K blocks in order: no bit changes.
// B packed once for several products (gemm.h PackedB): every K block of KC rows, every panel of NR
// columns, each panel k-major as sgemm_part packs it. The block at k0 starts at k0·P·NR floats (P panels);
// its panel p at + p·NR·kc, kc = min(KC, K − k0). A product over the first k' ≤ K rows and n' ≤ N
// columns reads prefixes of these panels: the same values, in the same order, as packing its own.
struct Prepacked {
    const float* data = nullptr;  // null: sgemm_part packs B itself
    int64_t panels = 0;
    int64_t K = 0;
    const float* panel(int64_t k0, int64_t p) const { return data + k0 * panels * NR + p * NR * std::min(KC, K - k0); }
};

int64_t packed_b_floats(int64_t N, int64_t K) { return (N + NR - 1) / NR * NR * K; }

void pack_b_all(bool trans_b, const float* B, int64_t ldb, int64_t N, int64_t K, float* out) {
    const Prepacked layout{out, (N + NR - 1) / NR, K};
    for (int64_t k0 = 0; k0 < K; k0 += KC)
        for (int64_t p = 0; p < layout.panels; ++p)
            pack_b(trans_b, B, ldb, N, p * NR, k0, std::min(KC, K - k0), const_cast<float*>(layout.panel(k0, p)));
}

void sgemm_part(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda,
                const float* B, int64_t ldb, TileMode first, const float* bias, float* C, int64_t ldc, int64_t pm0,
                int64_t pm1, int64_t pn0, int64_t pn1, const Prepacked& prepacked = {}) {
    static thread_local AlignedBuffer a_buffer, b_buffer;  // packed panels, reused across calls
    float* a_packed = a_buffer.get((pm1 - pm0) * MR * KC);
    float* b_packed = prepacked.data ? nullptr : b_buffer.get(std::min(pn1 - pn0, kNPanels) * NR * KC);
    alignas(64) float edge[MR * NR];
    for (int64_t k0 = 0; k0 < K; k0 += KC) {
        const int64_t kc = std::min(KC, K - k0);
        const TileMode mode = k0 == 0 ? first : TileMode::accumulate;
        for (int64_t p = pm0; p < pm1; ++p) pack_a(trans_a, A, lda, M, p * MR, k0, kc, a_packed + (p - pm0) * MR * kc);
        for (int64_t c0 = pn0; c0 < pn1; c0 += kNPanels) {
            const int64_t c1 = std::min(pn1, c0 + kNPanels);
            if (!prepacked.data)
                for (int64_t p = c0; p < c1; ++p) pack_b(trans_b, B, ldb, N, p * NR, k0, kc, b_packed + (p - c0) * NR * kc);
            auto tile = [&](int64_t pm, int64_t pn) {
                const int64_t i0 = pm * MR, j0 = pn * NR;
                const float* a = a_packed + (pm - pm0) * MR * kc;
                const float* b = prepacked.data ? prepacked.panel(k0, pn) : b_packed + (pn - c0) * NR * kc;
                if (i0 + MR <= M && j0 + NR <= N) {
                    micro_kernel(kc, a, b, C + i0 * ldc + j0, ldc, mode, bias + (bias ? j0 : 0));
                } else {  // edge tile: compute into a scratch tile, then the valid part as the tile would
                    micro_kernel(kc, a, b, edge, NR, TileMode::store, nullptr);
                    const int64_t rows = std::min(MR, M - i0), cols = std::min(NR, N - j0);
                    for (int64_t r = 0; r < rows; ++r) {
                        float* c = C + (i0 + r) * ldc + j0;
                        const float* e = edge + r * NR;
                        for (int64_t j = 0; j < cols; ++j)
                            c[j] = mode == TileMode::accumulate ? e[j] + c[j]
                                   : mode == TileMode::bias     ? e[j] + bias[j0 + j]
                                                                : e[j];
                    }
                }
            };
            for (int64_t pm = pm0; pm < pm1; ++pm)
                for (int64_t pn = c0; pn < c1; ++pn) tile(pm, pn);
        }
    }
}

// A product with K = 0: C = beta·C (0 or 1), or the bias on every row.
void empty_product(int64_t M, int64_t N, float beta, const float* bias, float* C, int64_t ldc) {
    if (beta == 0.0f || bias)
        for (int64_t i = 0; i < M; ++i)
            for (int64_t j = 0; j < N; ++j) C[i * ldc + j] = bias ? bias[j] : 0.0f;
}

// Threads for one product: parallel only with real work per thread. Inside another parallel region
// (attention's per-head tasks) it runs on the calling thread.
int64_t product_threads(int64_t M, int64_t N, int64_t K) {
    return M * N * K >= (int64_t(1) << 20) && !omp_in_parallel() ? omp_get_max_threads() : 1;
}

void sgemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B,
           int64_t ldb, float beta, const float* bias, float* C, int64_t ldc) {
    if (M == 0 || N == 0) return;
    if (K == 0) return empty_product(M, N, beta, bias, C, ldc);
    // C is never filled beforehand: the first K block stores, adds to C (beta 1) or adds the bias.
    const TileMode first = bias ? TileMode::bias : beta == 0.0f ? TileMode::store : TileMode::accumulate;
    const int64_t m_panels = (M + MR - 1) / MR, n_panels = (N + NR - 1) / NR;
    // C is split along its longer side, one part per thread, each packing its own panels: one parallel
    // region and no barrier inside a product.
    const int64_t threads = product_threads(M, N, K);
    const bool split_m = m_panels * MR >= n_panels * NR;
#pragma omp parallel num_threads(static_cast<int>(threads)) if (threads > 1)
    {
        const int64_t t = omp_get_thread_num(), n = omp_get_num_threads();
        const int64_t panels = split_m ? m_panels : n_panels;
        const int64_t p0 = panels * t / n, p1 = panels * (t + 1) / n;
        if (p1 > p0) {
            if (split_m)
                sgemm_part(trans_a, trans_b, M, N, K, A, lda, B, ldb, first, bias, C, ldc, p0, p1, 0, n_panels);
            else
                sgemm_part(trans_a, trans_b, M, N, K, A, lda, B, ldb, first, bias, C, ldc, 0, m_panels, p0, p1);
        }
    }
}

// C[M, N] = op(A)·op(B)[0:K, 0:N] + beta·C with op(B) packed by pack_b_all over packed_N ≥ N columns and
// packed_K ≥ K rows. Split along M only (B is already packed); the same bits as sgemm() on the same B.
void sgemm_packed(bool trans_a, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* packed,
                  int64_t packed_N, int64_t packed_K, float beta, float* C, int64_t ldc) {
    if (M == 0 || N == 0) return;
    if (K == 0) return empty_product(M, N, beta, nullptr, C, ldc);
    const TileMode first = beta == 0.0f ? TileMode::store : TileMode::accumulate;
    const Prepacked prepacked{packed, (packed_N + NR - 1) / NR, packed_K};
    const int64_t m_panels = (M + MR - 1) / MR, n_panels = (N + NR - 1) / NR;
    const int64_t threads = product_threads(M, N, K);
#pragma omp parallel num_threads(static_cast<int>(threads)) if (threads > 1)
    {
        const int64_t t = omp_get_thread_num(), n = omp_get_num_threads();
        const int64_t p0 = m_panels * t / n, p1 = m_panels * (t + 1) / n;
        if (p1 > p0)
            sgemm_part(trans_a, false, M, N, K, A, lda, nullptr, 0, first, nullptr, C, ldc, p0, p1, 0, n_panels,
                       prepacked);
    }
}

#endif  // GPT_KERNEL_HAS_SGEMM

void gelu_forward(const float* in, float* y, int64_t n) {
#pragma omp parallel for simd schedule(static) if (n >= kElementwiseParallel)
    for (int64_t i = 0; i < n; ++i) y[i] = gelu_value(in[i]);
}

// dx = (assign) or += dy·gelu'(x): one loop per case, so that assigning never reads dx.
template <bool Add>
void gelu_backward_loop(const float* xs, const float* dy, float* dx, int64_t count) {
#pragma omp parallel for simd schedule(static) if (count >= kElementwiseParallel)
    for (int64_t i = 0; i < count; ++i) {
        const float d = gelu_grad(xs[i], dy[i]);
        dx[i] = Add ? dx[i] + d : d;
    }
}

void gelu_backward(const float* xs, const float* dy, float* dx, int64_t count, bool assign) {
    assign ? gelu_backward_loop<false>(xs, dy, dx, count) : gelu_backward_loop<true>(xs, dy, dx, count);
}

// linear_gelu's backward pass: d = dy·gelu'(pre) written to dpre, and db[j] += Σ_rows d[·, j] in the same
// pass (the bias gradient linear's backward sums with a second read of d). Split by blocks of `block`
// columns, each block walking every row in order: each db[j] gets linear's additions in linear's order
// (autograd/ops/parallel.h for_column_blocks), so the bits are those of gelu's backward then linear's.
void gelu_backward_columns(const float* pre, const float* dy, float* dpre, float* db, int64_t rows, int64_t cols,
                           int64_t block, bool parallel) {
    const int64_t blocks = (cols + block - 1) / block;
#pragma omp parallel for schedule(static) if (parallel)
    for (int64_t b = 0; b < blocks; ++b) {
        const int64_t c0 = b * block, width = std::min(block, cols - c0);
        for (int64_t r = 0; r < rows; ++r) {
            const int64_t at = r * cols + c0;
            const float* p = pre + at;
            const float* g = dy + at;
            float* d = dpre + at;
            if (db) {
                float* sum = db + c0;
#pragma omp simd
                for (int64_t j = 0; j < width; ++j) {
                    d[j] = gelu_grad(p[j], g[j]);
                    sum[j] += d[j];
                }
            } else {
#pragma omp simd
                for (int64_t j = 0; j < width; ++j) d[j] = gelu_grad(p[j], g[j]);
            }
        }
    }
}

// Σ_{c < n} term(c) in a fixed order whatever the ISA: kSumLanes partial sums (term c goes to partial
// c mod kSumLanes, in index order), then added pairwise (partial j += partial j + 8, then + 4, + 2, + 1).
// 16 partials are one zmm on AVX-512, two ymm on AVX2, four xmm on SSE2 doing the same additions, so
// LayerNorm keeps the same bits on every path; and 16 independent chains where one chain of n dependent
// scalar adds (4 cycles each) made LayerNorm latency bound: its forward and backward took 3.3 and 2.4 %
// of baby's cycles, most of them waiting on vaddss (perf annotate, 1 thread).
constexpr int64_t kSumLanes = 16;

template <class Term>
[[gnu::always_inline]] inline float lane_sum(int64_t n, Term term) {
    float lane[kSumLanes] = {};
    int64_t c = 0;
    for (; c + kSumLanes <= n; c += kSumLanes)
        for (int64_t j = 0; j < kSumLanes; ++j) lane[j] += term(c + j);
    for (int64_t j = 0; c + j < n; ++j) lane[j] += term(c + j);
    for (int64_t width = kSumLanes / 2; width > 0; width /= 2)
        for (int64_t j = 0; j < width; ++j) lane[j] += lane[j + width];
    return lane[0];
}

// LayerNorm of one row of C into out_row (autograd/ops/layer_norm.cpp gives the maths), its mean and rstd
// into *mean_out and *rstd_out. The one place the forward is written: layer_norm and add_layer_norm.
[[gnu::always_inline]] inline void layer_norm_row(const float* row, const float* w, const float* b, float* out_row,
                                                  int64_t C, float eps, float* mean_out, float* rstd_out) {
    const float m = lane_sum(C, [row](int64_t c) { return row[c]; }) / static_cast<float>(C);
    // Two-pass variance: the row is in cache, and it avoids E[x²] − m² cancellation.
    const float sq = lane_sum(C, [row, m](int64_t c) {
        const float d = row[c] - m;
        return d * d;
    });
    const float s = 1.0f / std::sqrt(sq / static_cast<float>(C) + eps);
    if (w && b) {
        for (int64_t c = 0; c < C; ++c) out_row[c] = (row[c] - m) * s * w[c] + b[c];
    } else {
        for (int64_t c = 0; c < C; ++c) {
            const float norm = (row[c] - m) * s;
            out_row[c] = norm * (w ? w[c] : 1.0f) + (b ? b[c] : 0.0f);
        }
    }
    *mean_out = m;
    *rstd_out = s;
}

void layer_norm_forward(const float* xs, const float* w, const float* b, float* y, float* mean_out, float* rstd_out,
                        int64_t N, int64_t C, float eps) {
#pragma omp parallel for schedule(static) if (N * C >= kElementwiseParallel)
    for (int64_t n = 0; n < N; ++n) layer_norm_row(xs + n * C, w, b, y + n * C, C, eps, mean_out + n, rstd_out + n);
}

// The residual add fused with the LayerNorm that reads it (add_layer_norm in layer_norm.cpp): per row,
// s = x + y is written and normalised while it is in L1, instead of an add writing s and a LayerNorm
// reading it back: one pass over [N, C] fewer, the same bits as add then layer_norm.
void add_layer_norm_forward(const float* x, const float* y, const float* w, const float* b, float* s, float* out,
                            float* mean_out, float* rstd_out, int64_t N, int64_t C, float eps) {
#pragma omp parallel for schedule(static) if (N * C >= kElementwiseParallel)
    for (int64_t n = 0; n < N; ++n) {
        const float* xr = x + n * C;
        const float* yr = y + n * C;
        float* sr = s + n * C;
        for (int64_t c = 0; c < C; ++c) sr[c] = xr[c] + yr[c];
        layer_norm_row(sr, w, b, out + n * C, C, eps, mean_out + n, rstd_out + n);
    }
}

// out = or += v over n floats: the two ways a gradient target is written (Grads::target).
[[gnu::always_inline]] inline void store_or_add(float* out, const float* v, int64_t n, bool add) {
    if (add) {
        for (int64_t c = 0; c < n; ++c) out[c] = out[c] + v[c];
    } else {
        for (int64_t c = 0; c < n; ++c) out[c] = v[c];
    }
}

// LayerNorm's backward over N rows of C, beside its forward (layer_norm.cpp gives the maths), and with
// add_layer_norm the residual add's before it, in the same pass:
//   d    = rstd·(g − mean_c(g) − norm·mean_c(g ⊙ norm)),  g = w ⊙ dy   (dy null: no gradient reached the
//          norm, d = 0 and dw, db get nothing)
//   d   += dres                      (add_layer_norm: what the sum received from its other readers)
//   dx   = or += d,  dx2 = or += d   (the add's two operands; dx2 null for layer_norm; either may be null)
//   dw  += Σ_n norm ⊙ dy,  db += Σ_n dy   (either may be null)
// The sums over rows go through fixed chunks of kLayerNormRowChunk rows added in chunk order: the same
// additions for any thread count. With dres, d is dres + the LayerNorm term, as add then layer_norm give
// it (layer_norm adds its term into the sum's gradient, the add copies that to both operands).
constexpr int64_t kLayerNormRowChunk = 32;

void layer_norm_backward_rows(const float* x, const float* w, const float* mean, const float* rstd, const float* dy,
                              const float* dres, float* dx, bool dx_add, float* dx2, bool dx2_add, float* dw,
                              float* db, int64_t N, int64_t C, bool parallel) {
    // dw and db sum over all N rows. Rows are taken in fixed chunks of kLayerNormRowChunk (not one share per
    // thread), each chunk's sums go to its own partial, and the partials are added in chunk order:
    // the same additions in the same order for any thread count.
    const int64_t chunks = (N + kLayerNormRowChunk - 1) / kLayerNormRowChunk;
    const bool params = dy && (dw || db);
    std::vector<float> partial(params ? static_cast<size_t>(chunks) * 2 * static_cast<size_t>(C) : 0, 0.0f);

#pragma omp parallel if (parallel)
    {
        std::vector<float> scratch(static_cast<size_t>(C));  // d, when no target can hold it
#pragma omp for schedule(static)
        for (int64_t chunk = 0; chunk < chunks; ++chunk) {
            float* pw = params ? partial.data() + static_cast<size_t>(chunk) * 2 * static_cast<size_t>(C) : nullptr;
            float* pb = pw ? pw + C : nullptr;
            for (int64_t n = chunk * kLayerNormRowChunk; n < std::min(N, (chunk + 1) * kLayerNormRowChunk); ++n) {
                float* dx_row = dx ? dx + n * C : nullptr;
                float* dx2_row = dx2 ? dx2 + n * C : nullptr;
                // d goes straight into a target that is assigned, else into scratch and is then added.
                const bool d_in_dx = dx && !dx_add, d_in_dx2 = !d_in_dx && dx2 && !dx2_add;
                float* d_row = d_in_dx ? dx_row : d_in_dx2 ? dx2_row : scratch.data();
                const float* d_done = d_row;  // where d ends up (dres itself when the norm got no gradient)
                if (!dy) {  // d = dres, or 0 when no gradient at all came (the tape never calls so)
                    if (!dres) std::fill_n(scratch.data(), C, 0.0f);
                    d_done = dres ? dres + n * C : scratch.data();
                    if (d_row != scratch.data()) {
                        store_or_add(d_row, d_done, C, false);
                        d_done = d_row;
                    }
                } else {
                    const float* row = x + n * C;
                    const float* dout = dy + n * C;
                    const float mn = mean[n];
                    const float sn = rstd[n];
                    // Σ g and Σ g ⊙ norm; the weight's presence decided outside the sums, which are
                    // vectorised only without a branch inside (a missing weight is 1: the same bits).
                    float g_sum = 0.0f, g_norm_sum = 0.0f;
                    auto sums = [&](auto weight) {
                        g_sum = lane_sum(C, [&](int64_t c) { return weight(c) * dout[c]; });
                        g_norm_sum = lane_sum(C, [&](int64_t c) { return weight(c) * dout[c] * ((row[c] - mn) * sn); });
                    };
                    if (w)
                        sums([w](int64_t c) { return w[c]; });
                    else
                        sums([](int64_t) { return 1.0f; });
                    if (pw) {
                        for (int64_t c = 0; c < C; ++c) {
                            const float norm = (row[c] - mn) * sn;
                            pw[c] += norm * dout[c];
                            pb[c] += dout[c];
                        }
                    }
                    const float g_mean = g_sum / static_cast<float>(C);
                    const float g_norm_mean = g_norm_sum / static_cast<float>(C);
                    if (!dx && !dx2) continue;
                    if (dres) {
                        const float* res = dres + n * C;
                        for (int64_t c = 0; c < C; ++c) {
                            const float norm = (row[c] - mn) * sn;
                            const float g = (w ? w[c] : 1.0f) * dout[c];
                            d_row[c] = res[c] + sn * (g - g_mean - norm * g_norm_mean);
                        }
                    } else {
                        for (int64_t c = 0; c < C; ++c) {
                            const float norm = (row[c] - mn) * sn;
                            const float g = (w ? w[c] : 1.0f) * dout[c];
                            d_row[c] = sn * (g - g_mean - norm * g_norm_mean);
                        }
                    }
                }
                if (dx && !d_in_dx) store_or_add(dx_row, d_done, C, dx_add);
                if (dx2 && !d_in_dx2) store_or_add(dx2_row, d_done, C, dx2_add);
            }
        }
        if (params) {
            // Reduce the chunk sums, each column by one thread, adding chunks in order.
#pragma omp for schedule(static)
            for (int64_t c = 0; c < C; ++c) {
                float sw = 0.0f;
                float sb = 0.0f;
                for (int64_t k = 0; k < chunks; ++k) {
                    const float* pk = partial.data() + static_cast<size_t>(k) * 2 * static_cast<size_t>(C);
                    sw += pk[c];
                    sb += pk[C + c];
                }
                if (dw) dw[c] += sw;
                if (db) db[c] += sb;
            }
        }
    }
}

void layer_norm_backward(const float* x, const float* w, const float* mean, const float* rstd, const float* dy,
                         float* dx, bool dx_add, float* dw, float* db, int64_t N, int64_t C, bool parallel) {
    layer_norm_backward_rows(x, w, mean, rstd, dy, nullptr, dx, dx_add, nullptr, false, dw, db, N, C, parallel);
}

void add_layer_norm_backward(const float* s, const float* w, const float* mean, const float* rstd, const float* dnorm,
                             const float* dsum, float* dx, bool dx_add, float* dy, bool dy_add, float* dw, float* db,
                             int64_t N, int64_t C, bool parallel) {
    layer_norm_backward_rows(s, w, mean, rstd, dnorm, dsum, dx, dx_add, dy, dy_add, dw, db, N, C, parallel);
}

void softmax_causal_row(float* s, int64_t i, int64_t end, float scale) {
    float max = -INFINITY;
    for (int64_t j = 0; j <= i; ++j) {
        s[j] *= scale;
        max = s[j] > max ? s[j] : max;
    }
    float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
    for (int64_t j = 0; j <= i; ++j) {
        s[j] = fast_math::exp(s[j] - max);
        sum += s[j];
    }
    const float inv_sum = 1.0f / sum;
#pragma omp simd
    for (int64_t j = 0; j <= i; ++j) s[j] *= inv_sum;
    for (int64_t j = i + 1; j < end; ++j) s[j] = 0.0f;
}

// As softmax_causal_row over keys 0..n−1, with padded keys set to −∞ before the max so that exp gives
// exactly 0 for them (fast_math::exp returns 0 below −87.3). When every key is padded the max stays −∞
// and the row is defined as zeros (no key to attend to), not the NaN of −∞ − (−∞).
void softmax_padded_row(float* s, const uint8_t* padded, int64_t n, int64_t end, float scale) {
    float max = -INFINITY;
    for (int64_t j = 0; j < n; ++j) {
        s[j] = padded[j] ? -INFINITY : s[j] * scale;
        max = s[j] > max ? s[j] : max;
    }
    if (max == -INFINITY) {
        for (int64_t j = 0; j < end; ++j) s[j] = 0.0f;
        return;
    }
    float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
    for (int64_t j = 0; j < n; ++j) {
        s[j] = fast_math::exp(s[j] - max);
        sum += s[j];
    }
    const float inv_sum = 1.0f / sum;
#pragma omp simd
    for (int64_t j = 0; j < n; ++j) s[j] *= inv_sum;
    for (int64_t j = n; j < end; ++j) s[j] = 0.0f;
}

// PyTorch's AdamW sequence with its fmas (optim/adamw.cpp explains it). On the portable path std::fma
// is libm's (exact, hardware FMA where the CPU has it), so every path gives PyTorch's bits.
void adamw_update(float* p, const float* g, float* m, float* v, int64_t n, const AdamWScalars& s) {
#pragma omp parallel for schedule(static) if (n >= 32768)
    for (int64_t i = 0; i < n; ++i) {
        const float gi = g[i] * s.grad_scale;  // clip_grad_norm_'s g.mul_(coef), same rounding; × 1 is exact
        const float pi = p[i] * s.decay;
        const float mi = std::fma(gi, s.one_minus_beta1, m[i] * s.beta1);
        const float vi = std::fma(s.one_minus_beta2 * gi, gi, v[i] * s.beta2);
        const float denom = std::sqrt(vi) / s.bias_correction2_sqrt + s.eps;
        m[i] = mi;
        v[i] = vi;
        p[i] = pi + s.neg_step_size * mi / denom;
    }
}

float row_sum_exp(const float* x, int64_t n, float shift) {
    float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
    for (int64_t j = 0; j < n; ++j) sum += fast_math::exp(x[j] - shift);
    return sum;
}

void row_add_scaled_exp(const float* x, int64_t n, float shift, float scale, float* out) {
#pragma omp simd
    for (int64_t j = 0; j < n; ++j) out[j] += scale * fast_math::exp(x[j] - shift);
}

// ---- bf16 weights: y[M, N] = x[M, K]·Wᵀ (+ bias), W [N, K] bf16 (kernels.h linear_bf16) ----
// A bf16 value is the high half of a float32, so a vector of them widens exactly with a zero-extend of
// each 16-bit value to 32 bits and a shift left by 16 (no bf16 instruction: any AVX2 or AVX-512 CPU, and
// SSE2 on the portable path). The loop is bound by reading W (each weight is used once per row of x): the
// bf16 copy halves those bytes against float32. Per path, one float vector of kBf16Lanes lanes:
//   avx512  16 lanes: 16 bf16 (32 bytes) → vpmovzxwd zmm → vpslld 16; FMA
//   avx2     8 lanes:  8 bf16 (16 bytes) → vpmovzxwd ymm → vpslld 16; FMA
//   portable 4 lanes:  4 bf16 (8 bytes) interleaved under 16 zero bits (punpcklwd); multiply, then add
#if defined(__AVX512F__)
constexpr int64_t kBf16Lanes = 16;
using Bf16Vec = __m512;
inline __m512 bf16_zero() { return _mm512_setzero_ps(); }
inline __m512 bf16_load_x(const float* p) { return _mm512_loadu_ps(p); }
inline __m512 bf16_widen(const uint16_t* p) {
    // The zero-masked forms compile to the same instructions: the plain ones start from
    // _mm512_undefined_epi32(), which GCC 12 reports as read uninitialised (-Wmaybe-uninitialized).
    const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    return _mm512_castsi512_ps(_mm512_maskz_slli_epi32(0xFFFF, _mm512_maskz_cvtepu16_epi32(0xFFFF, h), 16));
}
inline __m512 bf16_madd(__m512 x, __m512 w, __m512 acc) { return _mm512_fmadd_ps(x, w, acc); }
inline __m512 bf16_add(__m512 a, __m512 b) { return _mm512_add_ps(a, b); }
#elif defined(__AVX2__)
constexpr int64_t kBf16Lanes = 8;
using Bf16Vec = __m256;
inline __m256 bf16_zero() { return _mm256_setzero_ps(); }
inline __m256 bf16_load_x(const float* p) { return _mm256_loadu_ps(p); }
inline __m256 bf16_widen(const uint16_t* p) {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}
inline __m256 bf16_madd(__m256 x, __m256 w, __m256 acc) { return _mm256_fmadd_ps(x, w, acc); }
inline __m256 bf16_add(__m256 a, __m256 b) { return _mm256_add_ps(a, b); }
#else
constexpr int64_t kBf16Lanes = 4;
using Bf16Vec = __m128;
inline __m128 bf16_zero() { return _mm_setzero_ps(); }
inline __m128 bf16_load_x(const float* p) { return _mm_loadu_ps(p); }
inline __m128 bf16_widen(const uint16_t* p) {
    const __m128i h = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p));
    return _mm_castsi128_ps(_mm_unpacklo_epi16(_mm_setzero_si128(), h));  // each value above 16 zero bits
}
inline __m128 bf16_madd(__m128 x, __m128 w, __m128 acc) { return _mm_add_ps(acc, _mm_mul_ps(x, w)); }
inline __m128 bf16_add(__m128 a, __m128 b) { return _mm_add_ps(a, b); }
#endif

// The lanes of v added in a fixed tree: halves, then halves of those, down to one float.
inline float lane_sum(__m128 v) {
    v = _mm_add_ps(v, _mm_movehl_ps(v, v));                         // lanes 0+2, 1+3
    return _mm_cvtss_f32(_mm_add_ss(v, _mm_shuffle_ps(v, v, 1)));  // (0+2) + (1+3)
}
#if defined(__AVX2__)
inline float lane_sum(__m256 v) { return lane_sum(_mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1))); }
#endif
#if defined(__AVX512F__)
inline float lane_sum(__m512 v) {
    return lane_sum(_mm256_add_ps(_mm512_extractf32x8_ps(v, 0), _mm512_extractf32x8_ps(v, 1)));
}
#endif

// Bytes ahead of the current position in W that each cache line is prefetched: W is read as one
// sequential stream per thread, and without the prefetch the bf16 loop left bandwidth unused (measured
// on the 2-core Sapphire Rapids VM, one thread, GPT-2's 124 M weights: 8–9 GB/s without, 12–13 with,
// the float32 loop's 13–14 GB/s; with rows read 4 at a time, interleaved, 8 GB/s).
constexpr int64_t kBf16PrefetchBytes = 4096;

// One output: Σ_k x[k]·w[k]. Four vector accumulators take the full vectors in turn (vector
// j goes to accumulator j mod 4: four independent FMA chains), the last 0–3 full vectors go to
// accumulators 0, 1, 2; then (a0 + a1) + (a2 + a3), its lanes in a fixed tree, the k tail in order.
// Nothing depends on the row count or the thread: the same bits wherever the output is computed.
inline float bf16_dot(const float* x, const uint16_t* w, int64_t K) {
    constexpr int64_t L = kBf16Lanes, step = 4 * L;
    Bf16Vec a0 = bf16_zero(), a1 = bf16_zero(), a2 = bf16_zero(), a3 = bf16_zero();
    int64_t k = 0;
    for (; k + step <= K; k += step) {
        for (int64_t b = 0; b < step * 2; b += 64)  // each cache line of this step's bf16, 4 KB ahead
            _mm_prefetch(reinterpret_cast<const char*>(w + k) + b + kBf16PrefetchBytes, _MM_HINT_T0);
        a0 = bf16_madd(bf16_load_x(x + k), bf16_widen(w + k), a0);
        a1 = bf16_madd(bf16_load_x(x + k + L), bf16_widen(w + k + L), a1);
        a2 = bf16_madd(bf16_load_x(x + k + 2 * L), bf16_widen(w + k + 2 * L), a2);
        a3 = bf16_madd(bf16_load_x(x + k + 3 * L), bf16_widen(w + k + 3 * L), a3);
    }
    if (k + L <= K) { a0 = bf16_madd(bf16_load_x(x + k), bf16_widen(w + k), a0); k += L; }
    if (k + L <= K) { a1 = bf16_madd(bf16_load_x(x + k), bf16_widen(w + k), a1); k += L; }
    if (k + L <= K) { a2 = bf16_madd(bf16_load_x(x + k), bf16_widen(w + k), a2); k += L; }
    float sum = lane_sum(bf16_add(bf16_add(a0, a1), bf16_add(a2, a3)));
    for (; k < K; ++k) sum += x[k] * std::bit_cast<float>(static_cast<uint32_t>(w[k]) << 16);
    return sum;
}

// Rows of W split into one contiguous range per thread (static schedule), so each thread streams its
// part of W in order; each row is used for every row of x while it is in L1 (K·2 bytes: 6 KB at K = 3072).
void linear_bf16(const float* x, int64_t M, int64_t K, const uint16_t* w, int64_t N, const float* bias, float* y) {
    const bool parallel = N * K >= (int64_t(1) << 15) && !omp_in_parallel();
#pragma omp parallel for schedule(static) if (parallel)
    for (int64_t n = 0; n < N; ++n) {
        const uint16_t* wn = w + n * K;
        for (int64_t m = 0; m < M; ++m) {
            const float dot = bf16_dot(x + m * K, wn, K);
            y[m * N + n] = bias ? dot + bias[n] : dot;
        }
    }
}

}  // namespace

const Table& path_table() {
    static const Table table{
        .path = GPT_KERNEL_PATH,
#if GPT_KERNEL_HAS_SGEMM  // else left null: the portable path's products go to OpenBLAS
        .sgemm = &sgemm,
        .packed_b_floats = &packed_b_floats,
        .pack_b = &pack_b_all,
        .sgemm_packed = &sgemm_packed,
#endif
        .gelu_forward = &gelu_forward,
        .gelu_backward = &gelu_backward,
        .gelu_backward_columns = &gelu_backward_columns,
        .layer_norm_forward = &layer_norm_forward,
        .layer_norm_backward = &layer_norm_backward,
        .add_layer_norm_forward = &add_layer_norm_forward,
        .add_layer_norm_backward = &add_layer_norm_backward,
        .softmax_causal_row = &softmax_causal_row,
        .softmax_padded_row = &softmax_padded_row,
        .adamw_update = &adamw_update,
        .row_sum_exp = &row_sum_exp,
        .row_add_scaled_exp = &row_add_scaled_exp,
        .linear_bf16 = &linear_bf16,
    };
    return table;
}

}  // namespace gpt::kernels::GPT_KERNEL_NS
