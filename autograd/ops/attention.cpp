// Fused causal self-attention, grouped-query aware, forward and backward per head with no [B, H, T, T]
// mask, no permuted copies of q/k/v and no work on the masked half.
//
// qkv [B, T, (H + 2·H_kv)·hd] → out [B, T, H·hd] (layout in attention_kernels.h). For query head h,
// kv head g = h / (H/H_kv), query i and keys j ≤ i:
//   S_ij = q_i·k_j / √hd,   P_ij = exp(S_ij − max_j S) / Σ_j exp(S_ij − max_j S)
//   D_ij = P_ij·mask_ij/(1 − p)   (inverted dropout; D = P when p = 0 or not training)
//   out_i = Σ_j D_ij v_j
// Backward, with dO the output gradient:
//   dV_j += Σ_i D_ij dO_i,   dD_ij = dO_i·v_j,   dP_ij = dD_ij·mask_ij/(1 − p)
//   dS_ij = P_ij (dP_ij − Σ_j' dP_ij' P_ij'),   dQ_i += Σ_j dS_ij k_j/√hd,   dK_j += Σ_i dS_ij q_i/√hd
//
// Saved for backward: P packed as lower triangles, B·H·T(T+1)/2 floats (about half of a [B, H, T, T]
// tensor: 25 MB per layer at B 16, H 6, T 256 becomes 12.6 MB), plus one 64-bit seed from which the
// dropout masks are regenerated. Nothing is saved when no gradient is recorded.
//
// Parallelism: forward over (b, h) pairs; backward over (b, kv head) groups, so that the query heads
// that share a kv head add into its dK/dV from one thread and no two threads write the same gradient.
// Each task's arithmetic is sequential, so results are bitwise identical for any thread count.
#include <cmath>
#include <string>
#include <vector>

#include "autograd/ops.h"
#include "autograd/profile.h"
#include "autograd/ops/attention_kernels.h"

namespace gpt {

using attention_detail::axpy;
using attention_detail::dot;
using attention_detail::DropoutMask;
using attention_detail::head_stream;
using attention_detail::Layout;

namespace {

// Work (multiply-adds) below which the parallel region costs more than it saves.
constexpr int64_t kParallelThreshold = 1 << 16;

Layout make_layout(const Tensor& qkv, int64_t n_head, int64_t n_kv_head) {
    const char* op = "causal_self_attention";
    check(qkv.defined() && qkv.dim() == 3, op,
          "qkv must be [B, T, (H + 2·H_kv)·hd], got " + (qkv.defined() ? shape_str(qkv.shape()) : "undefined"));
    check(n_head > 0 && n_kv_head > 0, op,
          "n_head " + std::to_string(n_head) + " and n_kv_head " + std::to_string(n_kv_head) + " must be positive");
    check(n_head % n_kv_head == 0, op,
          "n_head " + std::to_string(n_head) + " is not a multiple of n_kv_head " + std::to_string(n_kv_head));
    const int64_t width = qkv.size(2);
    const int64_t heads = n_head + 2 * n_kv_head;
    check(width > 0 && width % heads == 0, op,
          "qkv last dim " + std::to_string(width) + " is not divisible by n_head + 2·n_kv_head = " +
              std::to_string(heads) + " (shape " + shape_str(qkv.shape()) + ")");
    return Layout{qkv.size(0), qkv.size(1), n_head, n_kv_head, width / heads, width, n_head / n_kv_head};
}

DropoutMask make_mask(float p, bool training) {
    DropoutMask mask;
    if (!training || p == 0.0f) return mask;
    mask.active = true;
    mask.threshold = static_cast<uint64_t>(static_cast<double>(p) * 16777216.0);
    mask.scale = 1.0f / (1.0f - p);
    return mask;
}

// One (b, h): writes out rows and, when probs_saved is non-null, the packed P of this head.
void forward_head(const Layout& L, int64_t b, int64_t h, const float* qkv, float* out, float* probs_saved,
                  float* scratch, const DropoutMask& mask, uint64_t call_seed) {
    const int64_t g = h / L.group;
    const float scale = 1.0f / std::sqrt(static_cast<float>(L.hd));
    Generator stream = head_stream(call_seed, b * L.H + h);
    for (int64_t i = 0; i < L.T; ++i) {
        const float* q = qkv + L.q(b, i, h);
        float* p = probs_saved ? probs_saved + L.probs(b, h, i) : scratch;
        float max = -INFINITY;
        for (int64_t j = 0; j <= i; ++j) {
            const float s = dot(q, qkv + L.k(b, j, g), L.hd) * scale;
            p[j] = s;
            max = s > max ? s : max;
        }
        float sum = 0.0f;
        for (int64_t j = 0; j <= i; ++j) {
            p[j] = std::exp(p[j] - max);
            sum += p[j];
        }
        const float inv_sum = 1.0f / sum;
        float* o = out + L.out(b, i, h);
        for (int64_t d = 0; d < L.hd; ++d) o[d] = 0.0f;
        for (int64_t j = 0; j <= i; ++j) {
            p[j] *= inv_sum;
            const float keep = mask.next(stream);
            if (keep != 0.0f) axpy(p[j] * keep, qkv + L.v(b, j, g), o, L.hd);
        }
    }
}

// One (b, kv head g): every query head of the group, accumulating into dqkv.
void backward_group(const Layout& L, int64_t b, int64_t g, const float* qkv, const float* probs, const float* dout,
                    float* dqkv, float* dp, const DropoutMask& mask, uint64_t call_seed) {
    const float scale = 1.0f / std::sqrt(static_cast<float>(L.hd));
    for (int64_t h = g * L.group; h < (g + 1) * L.group; ++h) {
        Generator stream = head_stream(call_seed, b * L.H + h);
        for (int64_t i = 0; i < L.T; ++i) {
            const float* p = probs + L.probs(b, h, i);
            const float* d_o = dout + L.out(b, i, h);
            float row_dot = 0.0f;  // Σ_j dP_ij P_ij
            for (int64_t j = 0; j <= i; ++j) {
                const float keep = mask.next(stream);
                if (keep == 0.0f) {
                    dp[j] = 0.0f;
                    continue;
                }
                dp[j] = dot(d_o, qkv + L.v(b, j, g), L.hd) * keep;
                axpy(p[j] * keep, d_o, dqkv + L.v(b, j, g), L.hd);
                row_dot += dp[j] * p[j];
            }
            const float* q = qkv + L.q(b, i, h);
            float* dq = dqkv + L.q(b, i, h);
            for (int64_t j = 0; j <= i; ++j) {
                const float ds = p[j] * (dp[j] - row_dot) * scale;
                axpy(ds, qkv + L.k(b, j, g), dq, L.hd);
                axpy(ds, q, dqkv + L.k(b, j, g), L.hd);
            }
        }
    }
}

}  // namespace

Tensor causal_self_attention(const Tensor& qkv, int64_t n_head, int64_t n_kv_head, float dropout_p, bool training,
                             Generator& generator) {
    profile::Scope profile_scope("causal_self_attention");
    const Layout L = make_layout(qkv, n_head, n_kv_head);
    check(dropout_p >= 0.0f && dropout_p < 1.0f, "causal_self_attention",
          "dropout_p " + std::to_string(dropout_p) + " is outside [0, 1)");
    const DropoutMask mask = make_mask(dropout_p, training);
    const uint64_t call_seed = mask.active ? generator.next_u64() : 0;
    const bool save = needs_grad({&qkv});

    Tensor out = Tensor::empty({L.B, L.T, L.H * L.hd});
    Tensor probs = save ? Tensor::empty({L.B * L.H * L.triangle()}) : Tensor();
    const float* x = qkv.data();
    float* y = out.data();
    float* saved = save ? probs.data() : nullptr;
    const bool parallel = L.B * L.H * L.triangle() * L.hd >= kParallelThreshold;
#pragma omp parallel if (parallel)
    {
        std::vector<float> scratch(save ? 0 : static_cast<size_t>(L.T));
#pragma omp for schedule(static)
        for (int64_t bh = 0; bh < L.B * L.H; ++bh)
            forward_head(L, bh / L.H, bh % L.H, x, y, saved, scratch.data(), mask, call_seed);
    }

    if (save)
        record(out, "causal_self_attention", {qkv}, [qkv, probs, L, mask, call_seed, parallel](TensorImpl& o) {
            const float* x_in = qkv.data();
            const float* p = probs.data();
            const float* dy = o.grad->data;
            float* dx = qkv.grad_buffer();
#pragma omp parallel if (parallel)
            {
                std::vector<float> dp(static_cast<size_t>(L.T));
#pragma omp for schedule(static)
                for (int64_t bg = 0; bg < L.B * L.H_kv; ++bg)
                    backward_group(L, bg / L.H_kv, bg % L.H_kv, x_in, p, dy, dx, dp.data(), mask, call_seed);
            }
        });
    return out;
}

}  // namespace gpt
