// bf16 storage for inference: a float32 rounded to its high 16 bits (sign, the 8 exponent bits, 7 of the
// 23 mantissa bits), so widening back is exact: float32 bits = bf16 bits << 16. Generation reads weights
// this way (nn/gpt.h set_inference_weights): half the bytes of float32 per weight, and a decoding step at
// batch 1 is bound by reading every weight once. Nothing is trained in bf16 (no backward reads it).
//
// Rounding is to nearest, ties to even (IEEE 754's default; what PyTorch's .to(torch.bfloat16) does):
//   bits' = bits + 0x7FFF + (bit 16 of bits), then keep the high half.
// The added 0x7FFF (+1 when the kept part is odd) carries into bit 16 exactly when the dropped low half
// is above half (or exactly half and the kept part odd). Finite values past the largest bf16 (about
// 3.3895e38) round to ±infinity, as IEEE rounding does; infinities stay; a NaN stays a NaN (the carry
// could otherwise turn a NaN with only low payload bits into infinity): its high half with the quiet bit.
// Relative error of a rounded value: at most 2⁻⁸ (half a unit in the last place of the 8-bit significand,
// 1 + 7 stored bits), against float32's 2⁻²⁴.
#pragma once

#include <bit>
#include <cstdint>
#include <vector>

#include "autograd/tensor.h"

namespace gpt {

inline uint16_t bf16_round(float value) {
    const uint32_t bits = std::bit_cast<uint32_t>(value);
    if ((bits & 0x7FFFFFFFu) > 0x7F800000u) return static_cast<uint16_t>((bits >> 16) | 0x0040u);  // NaN, quiet
    return static_cast<uint16_t>((bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16);
}

inline float bf16_to_float(uint16_t bits) { return std::bit_cast<float>(static_cast<uint32_t>(bits) << 16); }

// A [rows, cols] row-major matrix of bf16 values: a rounded copy of a float32 weight W [out, in] as
// linear stores it (autograd/ops.h linear_bf16 reads it).
struct Bf16Matrix {
    int64_t rows = 0, cols = 0;
    std::vector<uint16_t> bits;  // rows·cols values, row-major

    bool empty() const { return bits.empty(); }
    // bf16_round of every element of a 2-D tensor (in parallel: 124 M weights for GPT-2).
    static Bf16Matrix round(const Tensor& weight);
};

}  // namespace gpt
