// The AVX2+FMA path (kernels.h): a 6×16 SGEMM micro-kernel (12 ymm accumulators, two B vectors and one
// broadcast: 15 of the 16 registers, the BLIS/OpenBLAS Haswell shape) and kernels_impl.h's loops, this
// file compiled with -march=x86-64-v3 -mno-avx512f (CMakeLists.txt) whatever the build's -march.
#include <immintrin.h>

#include <cstdint>

#define GPT_KERNEL_NS avx2
#define GPT_KERNEL_PATH ::gpt::KernelPath::avx2
#define GPT_KERNEL_HAS_SGEMM 1

namespace gpt::kernels::avx2 {
namespace {

// What a tile's first K block does with C: overwrite it, add to it, or overwrite it with product + bias.
enum class TileMode { store, accumulate, bias };

constexpr int64_t MR = 6, NR = 16;  // micro-tile: 6 rows × 2 ymm
constexpr int64_t KC = 256;         // K block: an A panel (256×6 floats, 6 KB) stays in L1

// c[0:6, 0:16] (+)= a_panel[k][6] · b_panel[k][16] over k < kc.
inline void micro_kernel(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, TileMode mode,
                         const float* bias) {
    __m256 acc[MR][2];
    // C's rows are fetched while the k loop runs (C is usually far out of cache: a tile is touched
    // once per K block); waiting for them at the end cost ~10% of a product.
    for (int64_t r = 0; r < MR; ++r) {
        _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc), _MM_HINT_T0);
        _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc + 15), _MM_HINT_T0);
    }
    for (int64_t r = 0; r < MR; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
    for (int64_t k = 0; k < kc; ++k) {
        const __m256 b0 = _mm256_load_ps(b + k * NR);
        const __m256 b1 = _mm256_load_ps(b + k * NR + 8);
        const float* ak = a + k * MR;
#pragma GCC unroll 6
        for (int64_t r = 0; r < MR; ++r) {
            const __m256 ar = _mm256_broadcast_ss(ak + r);
            acc[r][0] = _mm256_fmadd_ps(ar, b0, acc[r][0]);
            acc[r][1] = _mm256_fmadd_ps(ar, b1, acc[r][1]);
        }
    }
    // The first K block adds the bias (linear's, instead of a pass that fills C with it first) or
    // nothing (beta 0); the others add what C holds.
    const __m256 bias0 = mode == TileMode::bias ? _mm256_loadu_ps(bias) : __m256{};
    const __m256 bias1 = mode == TileMode::bias ? _mm256_loadu_ps(bias + 8) : __m256{};
    for (int64_t r = 0; r < MR; ++r) {
        float* cr = c + r * ldc;
        if (mode == TileMode::accumulate) {
            acc[r][0] = _mm256_add_ps(acc[r][0], _mm256_loadu_ps(cr));
            acc[r][1] = _mm256_add_ps(acc[r][1], _mm256_loadu_ps(cr + 8));
        } else if (mode == TileMode::bias) {
            acc[r][0] = _mm256_add_ps(acc[r][0], bias0);
            acc[r][1] = _mm256_add_ps(acc[r][1], bias1);
        }
        _mm256_storeu_ps(cr, acc[r][0]);
        _mm256_storeu_ps(cr + 8, acc[r][1]);
    }
}

}  // namespace
}  // namespace gpt::kernels::avx2

#include "autograd/kernels/kernels_impl.h"

const gpt::kernels::Table& gpt::kernels::avx2_table() { return avx2::path_table(); }
