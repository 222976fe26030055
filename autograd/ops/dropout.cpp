// Inverted dropout: each element is kept with probability 1 − p and scaled by 1/(1 − p), so the
// expected output equals the input and evaluation needs no rescaling.
//   out = x · mask,  mask_i = [hash(key, i) kept] / (1 − p)     (autograd/ops/dropout_mask.h)
//   backward: dx = g · mask   (the mask is regenerated from the call's seed; nothing but it is saved)
// The call draws one 64-bit seed from `generator`; element i belongs to stream i / 2³² (key
// dropout_key(seed, stream)) at index i mod 2³². Counter-based: no serial draw per element, the same
// mask for any thread count, and no mask tensor kept alive until backward.
// Identity when !training or p == 0: returns x itself, draws nothing, records nothing.
#include <algorithm>

#include "autograd/ops.h"
#include "autograd/ops/dropout_mask.h"
#include "autograd/profile.h"
#include "autograd/ops/parallel.h"

namespace gpt {

namespace {

constexpr int64_t kStream = int64_t(1) << 32;  // elements per hash stream (32-bit index)

// out[i] = a[i]·mask_i (+ out[i] when accumulate), stream by stream.
void apply_mask(const DropoutMask& mask, uint64_t seed, const float* a, float* out, int64_t n, bool accumulate) {
    for (int64_t s0 = 0; s0 < n; s0 += kStream) {
        const uint32_t key = dropout_key(seed, s0 / kStream);
        const int64_t len = std::min(kStream, n - s0);
        const float* as = a + s0;
        float* os = out + s0;
#pragma omp parallel for simd schedule(static) if (len >= kParallelMinMemoryBound)
        for (int64_t i = 0; i < len; ++i) {
            const float v = as[i] * mask.multiplier(key, static_cast<uint32_t>(i));
            os[i] = accumulate ? os[i] + v : v;
        }
    }
}

}  // namespace

Tensor dropout(const Tensor& x, float p, bool training, Generator& generator) {
    profile::Scope profile_scope("dropout");
    check(x.defined(), "dropout", "undefined input");
    check(p >= 0.0f && p < 1.0f, "dropout", "p must be in [0, 1), got " + std::to_string(p));
    const DropoutMask mask = DropoutMask::make(p, training);
    if (!mask.active) return x;
    const int64_t n = x.numel();
    const uint64_t seed = generator.next_u64();
    Tensor out = Tensor::empty(x.shape());
    apply_mask(mask, seed, x.data(), out.data(), n, false);
    if (needs_grad({&x}))
        record(out, "dropout", {x}, [mask, seed, n](const Grads& g) {
            if (const GradTarget gx = g.target(0); gx.data) apply_mask(mask, seed, g.out, gx.data, n, !gx.assign);
        });
    return out;
}

}  // namespace gpt
