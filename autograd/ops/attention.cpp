// Fused causal self-attention, grouped-query aware, forward and backward per head with no [B, H, T, T]
// mask, no permuted copies of q/k/v and no work on the masked half.
//
// qkv [B, T, (H + 2·H_kv)·hd] → out [B, T, H·hd] (layout: AttentionLayout in autograd/ops.h). For query head h,
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
// Each task's products are sgemm calls (gemm.h) on strided views of qkv (lda = the qkv row), in blocks
// of 64 query rows that skip the keys past the block (see kRowBlock); inside the parallel region they
// run on the calling thread, so each task's arithmetic is sequential and results are bitwise identical
// for any thread count. (A hand-written dot/axpy loop per (i, j) ran at ~5–12 GFLOP/s; the blocked
// products run at OpenBLAS speed.) The keys and values a head's blocks share are packed for the
// products once per head (gemm.h PackedB), not once per block.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "autograd/ops.h"
#include "autograd/profile.h"
#include "autograd/kernels/kernels.h"
#include "autograd/ops/dropout_mask.h"
#include "autograd/ops/fast_math.h"
#include "autograd/ops/gemm.h"

namespace gpt {

using Layout = AttentionLayout;  // the qkv layout, declared in autograd/ops.h for every caller

namespace {

// Work (multiply-adds) below which the parallel region costs more than it saves.
constexpr int64_t kParallelThreshold = 1 << 16;

}  // namespace

AttentionLayout attention_layout(const Tensor& qkv, int64_t n_head, int64_t n_kv_head) {
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

namespace {

// Per-thread T×Tk work buffers (row-major, leading dimension Tk: the keys visible to the last query,
// T in training, cached + T with a cache). Only the causal part of each row block is ever read; entries
// past a row's last key inside a block are written as zeros so the products see them.
struct Scratch {
    std::vector<float> probs, dropped, keep, grad;
    // A head's keys and values packed once for all its blocks of queries (gemm.h PackedB): forward
    // reads Kᵀ and V, backward Vᵀ and K. Packed per block they were copied up to T/64 times over.
    PackedB keys, values;
    Scratch(int64_t T, int64_t Tk, bool dropout, bool backward)
        : probs(static_cast<size_t>(T * Tk)), dropped(dropout ? static_cast<size_t>(T * Tk) : 0),
          keep(dropout ? static_cast<size_t>(T * Tk) : 0), grad(backward ? static_cast<size_t>(T * Tk) : 0) {}
};

// Where one call's keys and values live: in qkv itself (training; keys 0..T−1 are this call's tokens)
// or in a cache (inference; keys 0..start+T−1, the last T of them this call's). Query i sees keys
// 0..start+i.
struct KeySource {
    const float* keys;    // row 0, kv head 0
    const float* values;
    int64_t ld;           // floats between consecutive positions
    int64_t start;        // positions before this call's first query

    static KeySource of_qkv(const Layout& L, const float* qkv, int64_t b) {
        return {qkv + L.k(b, 0, 0), qkv + L.v(b, 0, 0), L.row, 0};
    }
};

// C = op(A)·op(B) + beta·C through gemm.h's sgemm, which runs on the calling thread inside the
// parallel region, so each head's products run in a fixed order on one thread.
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B,
          int64_t ldb, float beta, float* C, int64_t ldc) {
    sgemm(trans_a, trans_b, M, N, K, A, lda, B, ldb, beta, C, ldc);
}

// Row block [r0, r1) of queries sees keys [0, r1): the products of a block skip the keys above its last
// row, so with 64-row blocks the work is (1 + 2 + … + n)/n² of the full square instead of ½ + 1/(2n).
constexpr int64_t kRowBlock = 64;

// Softmax of row i of `s` (keys 0..i, q·k not yet scaled by 1/√hd) in place; zeros keys i+1..end−1
// (end: the row block's last key) so the row can enter the block's products as it is.
void softmax_row(float* s, int64_t i, int64_t end, float scale) {
    kernels::table().softmax_causal_row(s, i, end, scale);  // per ISA: autograd/kernels
}

// Row i's dropout multipliers into keep (stream dropout_key(seed, b·H + h), entry index i·T + j:
// autograd/ops/dropout_mask.h), and
// dropped = probs·keep, zero above the diagonal up to `end`.
void dropout_row(const float* probs, float* keep, float* dropped, int64_t i, int64_t T, int64_t end,
                 const DropoutMask& mask, uint32_t key) {
    const uint32_t row = static_cast<uint32_t>(i * T);
#pragma omp simd
    for (int64_t j = 0; j <= i; ++j) {
        keep[j] = mask.multiplier(key, row + static_cast<uint32_t>(j));
        dropped[j] = probs[j] * keep[j];
    }
    for (int64_t j = i + 1; j < end; ++j) dropped[j] = 0.0f;
}

// One (b, h): writes out rows and, when requested, the packed P of this head (for backward) and its
// full rows (for an inference sink, [T, Tk]). With Tk = kv.start + T and queries at kv.start + i:
//   S[r0:r1, 0:kv.start+r1] = Q[r0:r1]·K[0:kv.start+r1]ᵀ/√hd → softmax rows → D (dropout) → O[r0:r1] = D·V
void forward_head(const Layout& L, int64_t b, int64_t h, const float* qkv, const KeySource& kv, float* out,
                  float* probs_saved, float* probs_sink, Scratch& scratch, const DropoutMask& mask,
                  uint64_t call_seed) {
    const int64_t g = h / L.group, T = L.T, Tk = kv.start + T;
    const float scale = 1.0f / std::sqrt(static_cast<float>(L.hd));
    const uint32_t key = dropout_key(call_seed, b * L.H + h);
    const float* Q = qkv + L.q(b, 0, h);
    const float* K = kv.keys + g * L.hd;
    const float* V = kv.values + g * L.hd;
    float* O = out + L.out(b, 0, h);
    float* P = scratch.probs.data();
    float* D = mask.active ? scratch.dropped.data() : P;
    scratch.keys.pack(true, Tk, L.hd, K, kv.ld);     // op(B) = Kᵀ [hd, Tk]
    scratch.values.pack(false, L.hd, Tk, V, kv.ld);  // op(B) = V [Tk, hd]
    for (int64_t r0 = 0; r0 < T; r0 += kRowBlock) {
        const int64_t r1 = std::min(r0 + kRowBlock, T), keys = kv.start + r1;
        scratch.keys.multiply(false, r1 - r0, keys, L.hd, Q + r0 * L.row, L.row, 0.0f, P + r0 * Tk, Tk);
        for (int64_t i = r0; i < r1; ++i) {
            float* p = P + i * Tk;
            softmax_row(p, kv.start + i, keys, scale);
            if (probs_saved) std::copy_n(p, i + 1, probs_saved + L.probs(b, h, i));
            if (probs_sink) {
                float* row = probs_sink + ((b * L.H + h) * T + i) * Tk;
                std::copy_n(p, kv.start + i + 1, row);
                std::fill(row + kv.start + i + 1, row + Tk, 0.0f);
            }
            // Dropout only in training, where Tk = T and entry (i, j) is index i·T + j.
            if (mask.active) dropout_row(p, scratch.keep.data() + i * Tk, D + i * Tk, i, T, r1, mask, key);
        }
        scratch.values.multiply(false, r1 - r0, L.hd, keys, D + r0 * Tk, Tk, 0.0f, O + r0 * L.H * L.hd, L.H * L.hd);
    }
}

// One (b, kv head g): every query head of the group, accumulating into dqkv. Per row block:
//   dD = dO·Vᵀ,  dP = dD·keep,  dS = P·(dP − Σ_j dP·P)/√hd,
//   dV[0:r1] += Dᵀ·dO,  dQ[r0:r1] += dS·K[0:r1],  dK[0:r1] += dSᵀ·Q[r0:r1]
void backward_group(const Layout& L, int64_t b, int64_t g, const float* qkv, const float* probs, const float* dout,
                    float* dqkv, Scratch& scratch, const DropoutMask& mask, uint64_t call_seed) {
    const int64_t T = L.T, ld_out = L.H * L.hd;
    const float scale = 1.0f / std::sqrt(static_cast<float>(L.hd));
    const float* K = qkv + L.k(b, 0, g);
    const float* V = qkv + L.v(b, 0, g);
    float* dK = dqkv + L.k(b, 0, g);
    float* dV = dqkv + L.v(b, 0, g);
    float* P = scratch.probs.data();
    float* D = mask.active ? scratch.dropped.data() : P;
    float* dS = scratch.grad.data();
    scratch.values.pack(true, T, L.hd, V, L.row);  // op(B) = Vᵀ [hd, T], for dD = dO·Vᵀ
    scratch.keys.pack(false, L.hd, T, K, L.row);   // op(B) = K [T, hd], for dQ += dS·K
    for (int64_t h = g * L.group; h < (g + 1) * L.group; ++h) {
        const uint32_t key = dropout_key(call_seed, b * L.H + h);
        const float* Q = qkv + L.q(b, 0, h);
        float* dQ = dqkv + L.q(b, 0, h);
        const float* dO = dout + L.out(b, 0, h);
        for (int64_t r0 = 0; r0 < T; r0 += kRowBlock) {
            const int64_t r1 = std::min(r0 + kRowBlock, T);
            for (int64_t i = r0; i < r1; ++i) {
                float* p = P + i * T;
                std::copy_n(probs + L.probs(b, h, i), i + 1, p);
                for (int64_t j = i + 1; j < r1; ++j) p[j] = 0.0f;
                if (mask.active) dropout_row(p, scratch.keep.data() + i * T, D + i * T, i, T, r1, mask, key);
            }
            scratch.values.multiply(false, r1 - r0, r1, L.hd, dO + r0 * ld_out, ld_out, 0.0f, dS + r0 * T, T);
            for (int64_t i = r0; i < r1; ++i) {
                const float* p = P + i * T;
                float* ds = dS + i * T;
                if (mask.active) {
                    const float* keep = scratch.keep.data() + i * T;
                    for (int64_t j = 0; j <= i; ++j) ds[j] *= keep[j];
                }
                float row_dot = 0.0f;  // Σ_j dP_ij P_ij
#pragma omp simd reduction(+ : row_dot)
                for (int64_t j = 0; j <= i; ++j) row_dot += ds[j] * p[j];
#pragma omp simd
                for (int64_t j = 0; j <= i; ++j) ds[j] = p[j] * (ds[j] - row_dot) * scale;
                for (int64_t j = i + 1; j < r1; ++j) ds[j] = 0.0f;
            }
            gemm(true, false, r1, L.hd, r1 - r0, D + r0 * T, T, dO + r0 * ld_out, ld_out, 1.0f, dV, L.row);
            scratch.keys.multiply(false, r1 - r0, L.hd, r1, dS + r0 * T, T, 1.0f, dQ + r0 * L.row, L.row);
            gemm(true, false, r1, L.hd, r1 - r0, dS + r0 * T, T, Q + r0 * L.row, L.row, 1.0f, dK, L.row);
        }
    }
}

}  // namespace

namespace {

// Copies this call's keys and values (batch 0) into cache rows cached..cached+T−1 and returns where the
// heads then read them.
KeySource append_to_cache(const Layout& L, const float* qkv, const AttentionInference& cache) {
    const char* op = "causal_self_attention";
    check(L.B == 1, op, "a key/value cache holds one sequence, got batch " + std::to_string(L.B));
    check(cache.cached >= 0 && cache.cached + L.T <= cache.capacity, op,
          std::to_string(cache.cached) + " cached + " + std::to_string(L.T) + " new positions exceed the cache's " +
              std::to_string(cache.capacity));
    const int64_t width = L.kv_row();
    for (int64_t t = 0; t < L.T; ++t) {
        std::copy_n(qkv + L.k(0, t, 0), width, cache.keys + (cache.cached + t) * width);
        std::copy_n(qkv + L.v(0, t, 0), width, cache.values + (cache.cached + t) * width);
    }
    return {cache.keys, cache.values, width, cache.cached};
}

}  // namespace

Tensor causal_self_attention(const Tensor& qkv, int64_t n_head, int64_t n_kv_head, float dropout_p, bool training,
                             Generator& generator, AttentionInference* inference) {
    profile::Scope profile_scope("causal_self_attention");
    const Layout L = attention_layout(qkv, n_head, n_kv_head);
    check(dropout_p >= 0.0f && dropout_p < 1.0f, "causal_self_attention",
          "dropout_p " + std::to_string(dropout_p) + " is outside [0, 1)");
    const bool cached = inference && inference->keys && inference->values;
    const DropoutMask mask = DropoutMask::make(dropout_p, training);
    const bool save = needs_grad({&qkv});
    check(!cached || (!save && !mask.active), "causal_self_attention",
          "a key/value cache is for inference: no gradient, no dropout");
    const uint64_t call_seed = mask.active ? generator.next_u64() : 0;

    const float* x = qkv.data();
    const KeySource cache_keys = cached ? append_to_cache(L, x, *inference) : KeySource{};
    const int64_t Tk = (cached ? cache_keys.start : 0) + L.T;
    Tensor out = Tensor::empty({L.B, L.T, L.H * L.hd});
    Tensor probs = save ? Tensor::empty({L.B * L.H * L.triangle()}) : Tensor();
    Tensor sink = inference && inference->want_probs ? Tensor::empty({L.B, L.H, L.T, Tk}) : Tensor();
    float* y = out.data();
    float* saved = save ? probs.data() : nullptr;
    float* sunk = sink.defined() ? sink.data() : nullptr;
    const bool parallel = L.B * L.H * L.T * Tk * L.hd >= 2 * kParallelThreshold;
#pragma omp parallel if (parallel)
    {
        Scratch scratch(L.T, Tk, mask.active, false);
#pragma omp for schedule(static)
        for (int64_t bh = 0; bh < L.B * L.H; ++bh) {
            const int64_t b = bh / L.H;
            const KeySource kv = cached ? cache_keys : KeySource::of_qkv(L, x, b);
            forward_head(L, b, bh % L.H, x, kv, y, saved, sunk, scratch, mask, call_seed);
        }
    }
    if (sunk) inference->probs = sink;

    if (save)
        record(out, "causal_self_attention", {qkv}, [qkv_values = qkv.detach(), probs, L, mask, call_seed,
                                                     parallel](const Grads& g) {
            const float* x_in = qkv_values.data();
            const float* p = probs.data();
            const float* dy = g.out;
            float* dx = g.input(0);
            if (!dx) return;
#pragma omp parallel if (parallel)
            {
                Scratch scratch(L.T, L.T, mask.active, true);
#pragma omp for schedule(static)
                for (int64_t bg = 0; bg < L.B * L.H_kv; ++bg)
                    backward_group(L, bg / L.H_kv, bg % L.H_kv, x_in, p, dy, dx, scratch, mask, call_seed);
            }
        });
    return out;
}

}  // namespace gpt
