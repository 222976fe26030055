// exp in float that the compiler vectorises (private to autograd/ops/). glibc's expf is a scalar call
// (there is no vector variant without -ffast-math), so a loop of it does not vectorise (what that cost:
// bench/RESULTS.md, change 1). This is Cephes' expf: branch-free, so a loop of it becomes AVX-512 code.
//
//   x = n·ln2 + r,  n = round(x·log2 e),  |r| ≤ ln2/2   (ln2 split in two so n·ln2 is exact to float)
//   exp(r) ≈ 1 + r + r²·P(r)   (degree-5 minimax P; max relative error ≈ 1 ulp on [−ln2/2, ln2/2])
//   exp(x) = exp(r)·2ⁿ,  2ⁿ built from its exponent bits
// Inputs are clamped to [−87.3, 88.3] so 2ⁿ stays a normal float; below −87.3 the result is 0 (where
// expf gives a denormal or 0), above 88.3 it saturates at ≈ 2.4e38 (callers clamp or stay far below).
#pragma once

#include <bit>
#include <cstdint>

namespace gpt::fast_math {

// Always inlined: the per-ISA kernel files (autograd/kernels/kernels.h) must not share an out-of-line copy.
[[gnu::always_inline]] inline float exp(float x) {
    float clamped = x < -87.3f ? -87.3f : x;
    clamped = clamped > 88.3f ? 88.3f : clamped;
    // Round to nearest by adding and removing 1.5·2²³ (the float's fraction bits then hold the integer;
    // the compiler keeps the order of the two additions without -ffast-math).
    const float n = (clamped * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
    float r = clamped - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    const float scale = std::bit_cast<float>((static_cast<int32_t>(n) + 127) << 23);
    // The product is computed for every x and then selected: written as `x < … ? 0 : p * scale`, the
    // multiply would be conditional, and under -ftrapping-math GCC can then vectorise the loop only with
    // AVX-512's masked arithmetic (AVX2 loops of exp stayed scalar).
    const float result = p * scale;
    return x < -87.3f ? 0.0f : result;
}

}  // namespace gpt::fast_math
