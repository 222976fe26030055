// kernels_impl.h's SGEMM, for the paths with a micro-kernel of their own (GPT_KERNEL_HAS_SGEMM).
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
#pragma once

#if !defined(GPT_KERNEL_NS) || !defined(GPT_KERNEL_PATH)
#error "included by kernels_impl.h only, inside gpt::kernels::GPT_KERNEL_NS's anonymous namespace"
#endif

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

