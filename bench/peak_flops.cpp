#include "bench/peak_flops.h"

#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>

namespace gpt::bench {

namespace {

// 12 independent accumulator chains (more than FMA latency × FMA ports on current x86 cores), `iters`
// rounds; returns the sum so the work is not optimised away. 2 flops × lanes per FMA.
constexpr int kChains = 12;

__attribute__((target("avx2,fma"))) float fma_loop_256(int64_t iters) {
    __m256 acc[kChains];
    for (int c = 0; c < kChains; ++c) acc[c] = _mm256_set1_ps(static_cast<float>(c));
    const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
    for (int64_t i = 0; i < iters; ++i)
        for (int c = 0; c < kChains; ++c) acc[c] = _mm256_fmadd_ps(acc[c], a, b);
    __m256 s = acc[0];
    for (int c = 1; c < kChains; ++c) s = _mm256_add_ps(s, acc[c]);
    return _mm256_cvtss_f32(s);
}

__attribute__((target("avx512f"))) float fma_loop_512(int64_t iters) {
    __m512 acc[kChains];
    for (int c = 0; c < kChains; ++c) acc[c] = _mm512_set1_ps(static_cast<float>(c));
    const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
    for (int64_t i = 0; i < iters; ++i)
        for (int c = 0; c < kChains; ++c) acc[c] = _mm512_fmadd_ps(acc[c], a, b);
    __m512 s = acc[0];
    for (int c = 1; c < kChains; ++c) s = _mm512_add_ps(s, acc[c]);
    alignas(64) float lanes[16];
    _mm512_store_ps(lanes, s);
    return lanes[0] + lanes[15];
}

}  // namespace

double peak_gflops(int bits, int threads) {
    const bool have = bits == 512 ? __builtin_cpu_supports("avx512f")
                                  : __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (!have) return 0.0;
    const int64_t iters = 20'000'000;
    const double flops = 2.0 * (bits / 32) * kChains * static_cast<double>(iters) * threads;
    double best = 0.0;
    volatile float sink = 0.0f;
    for (int rep = 0; rep < 5; ++rep) {
        const auto t0 = std::chrono::steady_clock::now();
        float total = 0.0f;
#pragma omp parallel num_threads(threads) reduction(+ : total)
        total += bits == 512 ? fma_loop_512(iters) : fma_loop_256(iters);
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        sink = total;
        best = std::max(best, flops / s / 1e9);
    }
    (void)sink;
    return best;
}

int run_peak(int threads) {
    std::printf("{\"side\": \"peak\", \"threads\": %d, \"avx2_gflops\": %.1f, \"avx512_gflops\": %.1f}\n", threads,
                peak_gflops(256, threads), peak_gflops(512, threads));
    return 0;
}

}  // namespace gpt::bench
