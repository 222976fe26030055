// Private helpers of autograd/ops/attention.cpp: the fused qkv layout, the packed causal probability
// buffer, and the counter-based hash dropout mask.
#pragma once

#include <cstdint>

#include "autograd/ops.h"
#include "common/random.h"

namespace gpt::attention_detail {

using Layout = AttentionLayout;  // the qkv layout, declared in autograd/ops.h for every caller

// Attention dropout draws one 64-bit seed from the caller's generator per call. The mask entry of head
// (b, h), query i, key j is a hash of (that seed and head, i·T + j): counter-based, so the masks do not
// depend on thread scheduling or on the order of evaluation, a row of them is computed 16 lanes at a
// time, and the backward regenerates them instead of storing a [B, H, T, T] mask.
inline uint32_t head_key(uint64_t call_seed, int64_t head_index) {
    uint64_t z = call_seed ^ (0x9E3779B97F4A7C15ULL * static_cast<uint64_t>(head_index + 1));
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;  // splitmix64 finaliser
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return static_cast<uint32_t>(z ^ (z >> 31));
}

// Keep with probability 1 − p, to 24 bits: keep iff the top 24 bits of the entry's hash are ≥ p·2²⁴.
struct DropoutMask {
    bool active = false;
    uint32_t threshold = 0;
    float scale = 1.0f;  // 1/(1 − p)
    // The multiplier of entry `index` of a head: scale if kept, 0 if dropped (murmur3's fmix32).
    float multiplier(uint32_t key, uint32_t index) const {
        uint32_t h = index * 0x9E3779B1u + key;
        h ^= h >> 16;
        h *= 0x85EBCA6Bu;
        h ^= h >> 13;
        h *= 0xC2B2AE35u;
        h ^= h >> 16;
        return (h >> 8) >= threshold ? scale : 0.0f;
    }
};

}  // namespace gpt::attention_detail
