// The AVX-512 path (kernels.h): a 12×32 SGEMM micro-kernel (24 zmm accumulators) and kernels_impl.h's
// loops, this file compiled with AVX-512 flags (CMakeLists.txt) whatever the build's -march.
#include <immintrin.h>

#include <cstdint>

#define GPT_KERNEL_NS avx512
#define GPT_KERNEL_PATH ::gpt::KernelPath::avx512
#define GPT_KERNEL_HAS_SGEMM 1

namespace gpt::kernels::avx512 {
namespace {

// What a tile's first K block does with C: overwrite it, add to it, or overwrite it with product + bias.
enum class TileMode { store, accumulate, bias };

constexpr int64_t MR = 12, NR = 32;  // micro-tile: 12 rows × 2 zmm
constexpr int64_t KC = 256;          // K block: an A panel (256×12 floats, 12 KB) stays in L1

// c[0:12, 0:32] (+)= a_panel[k][12] · b_panel[k][32] over k < kc.
inline void micro_kernel(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, TileMode mode,
                         const float* bias) {
    __m512 acc[MR][2];
    // C's rows are fetched while the k loop runs (C is usually far out of cache: a tile is touched
    // once per K block); waiting for them at the end cost ~10% of a product.
    for (int64_t r = 0; r < MR; ++r) {
        _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc), _MM_HINT_T0);
        _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc + 31), _MM_HINT_T0);
    }
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
    // The first K block adds the bias (linear's, instead of a pass that fills C with it first) or
    // nothing (beta 0); the others add what C holds.
    const __m512 bias0 = mode == TileMode::bias ? _mm512_loadu_ps(bias) : __m512{};
    const __m512 bias1 = mode == TileMode::bias ? _mm512_loadu_ps(bias + 16) : __m512{};
    for (int64_t r = 0; r < MR; ++r) {
        float* cr = c + r * ldc;
        if (mode == TileMode::accumulate) {
            acc[r][0] = _mm512_add_ps(acc[r][0], _mm512_loadu_ps(cr));
            acc[r][1] = _mm512_add_ps(acc[r][1], _mm512_loadu_ps(cr + 16));
        } else if (mode == TileMode::bias) {
            acc[r][0] = _mm512_add_ps(acc[r][0], bias0);
            acc[r][1] = _mm512_add_ps(acc[r][1], bias1);
        }
        _mm512_storeu_ps(cr, acc[r][0]);
        _mm512_storeu_ps(cr + 16, acc[r][1]);
    }
}

}  // namespace
}  // namespace gpt::kernels::avx512

#include "autograd/kernels/kernels_impl.h"

const gpt::kernels::Table& gpt::kernels::avx512_table() { return avx512::path_table(); }
