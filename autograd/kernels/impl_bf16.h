// kernels_impl.h's product with bf16 weights (kernels.h linear_bf16).
#pragma once

#if !defined(GPT_KERNEL_NS) || !defined(GPT_KERNEL_PATH)
#error "included by kernels_impl.h only, inside gpt::kernels::GPT_KERNEL_NS's anonymous namespace"
#endif

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

