// Fused attention, grouped-query aware, forward and backward per head with no [B, H, Tq, Tk] mask, no
// permuted copies of q/k/v and no work on masked keys. One forward and one backward path for three
// modes (docs/attention.md):
//   causal self-attention   qkv [B, T, (H + 2·H_kv)·hd] → [B, T, H·hd], query i sees keys j ≤ i;
//   bidirectional           the same qkv, every query sees every key;
//   cross                   q [B, Tq, H·hd] and kv [B, Tk, 2·H_kv·hd] → [B, Tq, H·hd], every key;
// each with optional key padding (KeyPadding in autograd/ops.h): padded keys are left out of the
// softmax. For query head h, kv head g = h / (H/H_kv), query i and its visible keys j:
//   S_ij = q_i·k_j / √hd,   P_ij = exp(S_ij − max_j S) / Σ_j exp(S_ij − max_j S)   (P_ij = 0 otherwise)
//   D_ij = P_ij·mask_ij/(1 − p)   (inverted dropout; D = P when p = 0 or not training)
//   out_i = Σ_j D_ij v_j
// A query with no visible key has P_i· = 0, so out_i = 0 and no gradient flows through it.
// Backward, with dO the output gradient:
//   dV_j += Σ_i D_ij dO_i,   dD_ij = dO_i·v_j,   dP_ij = dD_ij·mask_ij/(1 − p)
//   dS_ij = P_ij (dP_ij − Σ_j' dP_ij' P_ij'),   dQ_i += Σ_j dS_ij k_j/√hd,   dK_j += Σ_i dS_ij q_i/√hd
// (P_ij = 0 makes dS_ij = 0: masked and padded keys need no case of their own in the backward.)
//
// Saved for backward: P, causal as packed lower triangles, B·H·T(T+1)/2 floats (about half of a
// [B, H, T, T] tensor: 25 MB per layer at B 16, H 6, T 256 becomes 12.6 MB), otherwise B·H·Tq·Tk, plus
// one 64-bit seed from which the dropout masks are regenerated. Nothing is saved when no gradient is
// recorded.
//
// Parallelism: forward over (b, h) pairs; backward over (b, kv head) groups, so that the query heads
// that share a kv head add into its dK/dV from one thread and no two threads write the same gradient.
// Each task's products are sgemm calls (gemm.h) on strided views of the inputs (lda = a token's row), in
// blocks of 64 query rows that skip the keys no row of the block sees (see kRowBlock); inside the
// parallel region they run on the calling thread, so each task's arithmetic is sequential and results
// are bitwise identical for any thread count. (A hand-written dot/axpy loop per (i, j) ran at ~5–12
// GFLOP/s; the blocked products run at OpenBLAS speed.) The keys and values a head's blocks share are
// packed for the products once per head (gemm.h PackedB), not once per block.
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

AttentionLayout attention_layout(const Tensor& qkv, int64_t n_head, int64_t n_kv_head, const char* op) {
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

// Where one call's queries, keys, values and outputs sit, whatever the mode: offsets into the query
// input (q(b, t, h)), the key/value input (k, v) and the output. Self-attention reads all three from
// qkv (ldq = ldkv = the qkv row); cross attention reads q from q and k, v from kv. The gradient buffers
// have their inputs' shapes, so the same offsets address them.
struct Geometry {
    int64_t B, Tq, Tk, H, H_kv, hd, group;
    int64_t ldq;           // floats between consecutive query positions
    int64_t ldkv;          // floats between consecutive key (and value) positions
    int64_t k_col, v_col;  // where kv head 0's key / value starts in a key position's row
    bool causal;

    int64_t q(int64_t b, int64_t t, int64_t h) const { return (b * Tq + t) * ldq + h * hd; }
    int64_t k(int64_t b, int64_t t, int64_t g) const { return (b * Tk + t) * ldkv + k_col + g * hd; }
    int64_t v(int64_t b, int64_t t, int64_t g) const { return (b * Tk + t) * ldkv + v_col + g * hd; }
    int64_t ld_out() const { return H * hd; }
    int64_t out(int64_t b, int64_t t, int64_t h) const { return ((b * Tq + t) * H + h) * hd; }

    // Saved probabilities of head (b, h), row i: causal, packed lower triangles (head (b, h) owns
    // Tq(Tq+1)/2 floats, row i starts at i(i+1)/2 and holds keys 0..i); otherwise full rows of Tk.
    int64_t saved_row(int64_t i) const { return causal ? i + 1 : Tk; }
    int64_t saved_per_head() const { return causal ? Tq * (Tq + 1) / 2 : Tq * Tk; }
    int64_t saved(int64_t b, int64_t h, int64_t i) const {
        return (b * H + h) * saved_per_head() + (causal ? i * (i + 1) / 2 : i * Tk);
    }

    static Geometry self(const Layout& L, bool causal) {
        return {L.B, L.T, L.T, L.H, L.H_kv, L.hd, L.group, L.row, L.row, L.H * L.hd, (L.H + L.H_kv) * L.hd, causal};
    }
};

// KeyPadding, checked and turned into what the loops read: per batch row, the end of its last unpadded
// key (keys past it are never multiplied) and, when the unpadded keys before it are not all of them,
// that row of the mask for the softmax to skip. A mask whose rows are prefixes reads exactly as lengths.
class KeyRanges {
public:
    KeyRanges(const KeyPadding& padding, int64_t B, int64_t Tk, const char* op) : Tk_(Tk), end_(B, Tk), holes_(B, 0) {
        check(padding.lengths.empty() || padding.mask.empty(), op, "key padding: give lengths or a mask, not both");
        if (!padding.lengths.empty()) {
            check(static_cast<int64_t>(padding.lengths.size()) == B, op,
                  "key padding: " + std::to_string(padding.lengths.size()) + " lengths for a batch of " +
                      std::to_string(B));
            for (int64_t b = 0; b < B; ++b) {
                const int64_t n = padding.lengths[static_cast<size_t>(b)];
                check(n >= 0 && n <= Tk, op,
                      "key padding: length " + std::to_string(n) + " of batch row " + std::to_string(b) +
                          " is outside [0, " + std::to_string(Tk) + "]");
                end_[static_cast<size_t>(b)] = n;
            }
        }
        if (!padding.mask.empty()) {
            check(static_cast<int64_t>(padding.mask.size()) == B * Tk, op,
                  "key padding: mask has " + std::to_string(padding.mask.size()) + " entries, want B·Tk = " +
                      std::to_string(B) + "·" + std::to_string(Tk));
            mask_ = padding.mask;
            for (int64_t b = 0; b < B; ++b) {
                const uint8_t* row = mask_.data() + b * Tk;
                int64_t end = Tk;
                while (end > 0 && row[end - 1]) --end;
                end_[static_cast<size_t>(b)] = end;
                holes_[static_cast<size_t>(b)] = std::any_of(row, row + end, [](uint8_t m) { return m != 0; });
            }
        }
    }
    int64_t end(int64_t b) const { return end_[static_cast<size_t>(b)]; }
    // Row b's mask (nonzero: padding), or null when keys 0..end(b)−1 are all unpadded.
    const uint8_t* padded(int64_t b) const { return holes_[static_cast<size_t>(b)] ? mask_.data() + b * Tk_ : nullptr; }

private:
    int64_t Tk_;
    std::vector<int64_t> end_;
    std::vector<uint8_t> holes_;
    std::vector<uint8_t> mask_;
};

// Per-thread Tq×Tk work buffers (row-major, leading dimension Tk: the keys of the call, T in causal
// training, cached + T with a cache). Only the visible part of each row block is ever read; entries
// past a row's last key inside a block are written as zeros so the products see them.
struct Scratch {
    std::vector<float> probs, dropped, keep, grad;
    // A head's keys and values packed once for all its blocks of queries (gemm.h PackedB): forward
    // reads Kᵀ and V, backward Vᵀ and K. Packed per block they were copied up to T/64 times over.
    PackedB keys, values;
    Scratch(int64_t Tq, int64_t Tk, bool dropout, bool backward)
        : probs(static_cast<size_t>(Tq * Tk)), dropped(dropout ? static_cast<size_t>(Tq * Tk) : 0),
          keep(dropout ? static_cast<size_t>(Tq * Tk) : 0), grad(backward ? static_cast<size_t>(Tq * Tk) : 0) {}
};

// Where one batch row's keys and values live and which of them its queries see: in the inputs
// (training; keys 0..Tk−1) or in a cache (inference, causal; keys 0..start+T−1, the last T of them this
// call's). Causal: query i sees keys 0..start+i; otherwise every key. Keys from `end` on are padding,
// and so are those `padded` marks (null: none below end).
struct KeySource {
    const float* keys;    // position 0, kv head 0
    const float* values;
    int64_t ld;           // floats between consecutive positions
    int64_t start;        // positions before this call's first query (causal with a cache)
    int64_t count;        // positions in all: the leading dimension of the probability rows
    int64_t end;          // keys end..count−1 are padding
    const uint8_t* padded;
    bool causal;

    // The keys 0..visible(i)−1 contain every key query i may see (the padded ones among them excluded
    // by `padded`). Non-decreasing in i, so a block's last row bounds the keys of the whole block.
    int64_t visible(int64_t i) const { return causal ? std::min(start + i + 1, end) : end; }

    static KeySource of_inputs(const Geometry& G, const float* kv, int64_t b, const KeyRanges& ranges) {
        return {kv + G.k(b, 0, 0), kv + G.v(b, 0, 0), G.ldkv, 0, G.Tk, ranges.end(b), ranges.padded(b), G.causal};
    }
};

// C = op(A)·op(B) + beta·C through gemm.h's sgemm, which runs on the calling thread inside the
// parallel region, so each head's products run in a fixed order on one thread.
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B,
          int64_t ldb, float beta, float* C, int64_t ldc) {
    sgemm(trans_a, trans_b, M, N, K, A, lda, B, ldb, beta, C, ldc);
}

// Row block [r0, r1) of queries sees keys [0, visible(r1 − 1)): causally, the products of a block skip
// the keys above its last row, so with 64-row blocks the work is (1 + 2 + … + n)/n² of the full square
// instead of ½ + 1/(2n).
constexpr int64_t kRowBlock = 64;

// Softmax in place of a score row `s` (q·k not yet scaled by 1/√hd) over its first n keys, leaving out
// those `padded` marks; zeros the rest up to `end` (the row block's last key) so the row can enter the
// block's products as it is. n = 0 (no key to see) gives a row of zeros.
void softmax_row(float* s, int64_t n, int64_t end, const uint8_t* padded, float scale) {
    if (n == 0)
        std::fill(s, s + end, 0.0f);
    else if (padded)
        kernels::table().softmax_padded_row(s, padded, n, end, scale);  // per ISA: autograd/kernels
    else
        kernels::table().softmax_causal_row(s, n - 1, end, scale);
}

// A probability row of n keys into a stored row of `length` ≥ n entries, zeros after the n.
void store_row(const float* p, int64_t n, int64_t length, float* row) {
    std::copy_n(p, n, row);
    std::fill(row + n, row + length, 0.0f);
}

// Row i's dropout multipliers for its n keys into keep (stream dropout_key(seed, b·H + h), entry index
// i·Tk + j: autograd/ops/dropout_mask.h), and dropped = probs·keep, zero from n up to `end`.
void dropout_row(const float* probs, float* keep, float* dropped, int64_t n, int64_t i, int64_t Tk, int64_t end,
                 const DropoutMask& mask, uint32_t key) {
    const uint32_t row = static_cast<uint32_t>(i * Tk);
#pragma omp simd
    for (int64_t j = 0; j < n; ++j) {
        keep[j] = mask.multiplier(key, row + static_cast<uint32_t>(j));
        dropped[j] = probs[j] * keep[j];
    }
    for (int64_t j = n; j < end; ++j) dropped[j] = 0.0f;
}

// One (b, h): writes out rows and, when requested, the saved P of this head (for backward) and its
// full rows (for an inference sink, [Tq, kv.count]). Per row block, with keys = kv.visible(r1 − 1):
//   S[r0:r1, 0:keys] = Q[r0:r1]·K[0:keys]ᵀ/√hd → softmax rows → D (dropout) → O[r0:r1] = D·V[0:keys]
void forward_head(const Geometry& G, int64_t b, int64_t h, const float* q_in, const KeySource& kv, float* out,
                  float* probs_saved, float* probs_sink, Scratch& scratch, const DropoutMask& mask,
                  uint64_t call_seed) {
    const int64_t g = h / G.group, Tq = G.Tq, Tk = kv.count, ld_out = G.ld_out();
    const float scale = 1.0f / std::sqrt(static_cast<float>(G.hd));
    const uint32_t key = dropout_key(call_seed, b * G.H + h);
    const float* Q = q_in + G.q(b, 0, h);
    const float* K = kv.keys + g * G.hd;
    const float* V = kv.values + g * G.hd;
    float* O = out + G.out(b, 0, h);
    float* P = scratch.probs.data();
    float* D = mask.active ? scratch.dropped.data() : P;
    if (kv.end > 0) {
        scratch.keys.pack(true, kv.end, G.hd, K, kv.ld);     // op(B) = Kᵀ [hd, end]
        scratch.values.pack(false, G.hd, kv.end, V, kv.ld);  // op(B) = V [end, hd]
    }
    for (int64_t r0 = 0; r0 < Tq; r0 += kRowBlock) {
        const int64_t r1 = std::min(r0 + kRowBlock, Tq), keys = kv.visible(r1 - 1);
        if (keys > 0)
            scratch.keys.multiply(false, r1 - r0, keys, G.hd, Q + r0 * G.ldq, G.ldq, 0.0f, P + r0 * Tk, Tk);
        for (int64_t i = r0; i < r1; ++i) {
            float* p = P + i * Tk;
            const int64_t n = kv.visible(i);
            softmax_row(p, n, keys, kv.padded, scale);
            if (probs_saved) store_row(p, n, G.saved_row(i), probs_saved + G.saved(b, h, i));
            if (probs_sink) store_row(p, n, Tk, probs_sink + ((b * G.H + h) * Tq + i) * Tk);
            // Dropout only in training, where there is no cache and start = 0.
            if (mask.active) dropout_row(p, scratch.keep.data() + i * Tk, D + i * Tk, n, i, Tk, keys, mask, key);
        }
        if (keys > 0)
            scratch.values.multiply(false, r1 - r0, G.hd, keys, D + r0 * Tk, Tk, 0.0f, O + r0 * ld_out, ld_out);
        else  // no row of the block sees a key
            for (int64_t i = r0; i < r1; ++i) std::fill_n(O + i * ld_out, G.hd, 0.0f);
    }
}

// One (b, kv head g): every query head of the group, accumulating into dq (queries) and dkv (keys and
// values); either may be null when its input needs no gradient. Per row block, keys = visible(r1 − 1):
//   dD = dO·Vᵀ,  dP = dD·keep,  dS = P·(dP − Σ_j dP·P)/√hd,
//   dV[0:keys] += Dᵀ·dO,  dQ[r0:r1] += dS·K[0:keys],  dK[0:keys] += dSᵀ·Q[r0:r1]
void backward_group(const Geometry& G, int64_t b, int64_t g, const float* q_in, const float* kv_in,
                    const KeyRanges& ranges, const float* probs, const float* dout, float* dq, float* dkv,
                    Scratch& scratch, const DropoutMask& mask, uint64_t call_seed) {
    const KeySource kv = KeySource::of_inputs(G, kv_in, b, ranges);
    if (kv.end == 0) return;  // every probability of the row is 0: no gradient
    const int64_t Tq = G.Tq, Tk = G.Tk, ld_out = G.ld_out();
    const float scale = 1.0f / std::sqrt(static_cast<float>(G.hd));
    const float* K = kv_in + G.k(b, 0, g);
    const float* V = kv_in + G.v(b, 0, g);
    float* dK = dkv ? dkv + G.k(b, 0, g) : nullptr;
    float* dV = dkv ? dkv + G.v(b, 0, g) : nullptr;
    float* P = scratch.probs.data();
    float* D = mask.active ? scratch.dropped.data() : P;
    float* dS = scratch.grad.data();
    scratch.values.pack(true, kv.end, G.hd, V, G.ldkv);  // op(B) = Vᵀ [hd, end], for dD = dO·Vᵀ
    scratch.keys.pack(false, G.hd, kv.end, K, G.ldkv);   // op(B) = K [end, hd], for dQ += dS·K
    for (int64_t h = g * G.group; h < (g + 1) * G.group; ++h) {
        const uint32_t key = dropout_key(call_seed, b * G.H + h);
        const float* Q = q_in + G.q(b, 0, h);
        float* dQ = dq ? dq + G.q(b, 0, h) : nullptr;
        const float* dO = dout + G.out(b, 0, h);
        for (int64_t r0 = 0; r0 < Tq; r0 += kRowBlock) {
            const int64_t r1 = std::min(r0 + kRowBlock, Tq), keys = kv.visible(r1 - 1);
            for (int64_t i = r0; i < r1; ++i) {
                const int64_t n = kv.visible(i);
                store_row(probs + G.saved(b, h, i), n, keys, P + i * Tk);
                if (mask.active) dropout_row(P + i * Tk, scratch.keep.data() + i * Tk, D + i * Tk, n, i, Tk, keys, mask, key);
            }
            scratch.values.multiply(false, r1 - r0, keys, G.hd, dO + r0 * ld_out, ld_out, 0.0f, dS + r0 * Tk, Tk);
            for (int64_t i = r0; i < r1; ++i) {
                const int64_t n = kv.visible(i);
                const float* p = P + i * Tk;
                float* ds = dS + i * Tk;
                if (mask.active) {
                    const float* keep = scratch.keep.data() + i * Tk;
                    for (int64_t j = 0; j < n; ++j) ds[j] *= keep[j];
                }
                float row_dot = 0.0f;  // Σ_j dP_ij P_ij
#pragma omp simd reduction(+ : row_dot)
                for (int64_t j = 0; j < n; ++j) row_dot += ds[j] * p[j];
#pragma omp simd
                for (int64_t j = 0; j < n; ++j) ds[j] = p[j] * (ds[j] - row_dot) * scale;
                for (int64_t j = n; j < keys; ++j) ds[j] = 0.0f;
            }
            if (dV) gemm(true, false, keys, G.hd, r1 - r0, D + r0 * Tk, Tk, dO + r0 * ld_out, ld_out, 1.0f, dV, G.ldkv);
            if (dQ) scratch.keys.multiply(false, r1 - r0, G.hd, keys, dS + r0 * Tk, Tk, 1.0f, dQ + r0 * G.ldq, G.ldq);
            if (dK) gemm(true, false, keys, G.hd, r1 - r0, dS + r0 * Tk, Tk, Q + r0 * G.ldq, G.ldq, 1.0f, dK, G.ldkv);
        }
    }
}

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
    const int64_t count = cache.cached + L.T;
    return {cache.keys, cache.values, width, cache.cached, count, count, nullptr, true};
}

// What one call attends with: the geometry, its inputs (self-attention: q and kv are both qkv, one
// input of the tape), the key padding and, with a cache, where the keys are.
struct Call {
    const char* op;
    Geometry G;
    bool self;
    Tensor q, kv;
    KeyRanges ranges;
    const KeySource* cache = nullptr;  // causal self-attention with a key/value cache
};

// Checks dropout_p and returns the call's mask (inactive unless training with p > 0).
DropoutMask dropout_mask(const char* op, float dropout_p, bool training) {
    check(dropout_p >= 0.0f && dropout_p < 1.0f, op, "dropout_p " + std::to_string(dropout_p) + " is outside [0, 1)");
    return DropoutMask::make(dropout_p, training);
}

// The one forward of every mode, and its record for the backward.
Tensor attend(Call call, const DropoutMask& mask, Generator& generator, AttentionInference* inference) {
    const Geometry& G = call.G;
    const bool self = call.self;
    const bool save = self ? needs_grad({&call.q}) : needs_grad({&call.q, &call.kv});
    const uint64_t call_seed = mask.active ? generator.next_u64() : 0;

    const float* q_in = call.q.data();
    const float* kv_in = call.kv.data();
    const int64_t Tk = call.cache ? call.cache->count : G.Tk;
    Tensor out = Tensor::empty({G.B, G.Tq, G.H * G.hd});
    Tensor probs = save ? Tensor::empty({G.B * G.H * G.saved_per_head()}) : Tensor();
    Tensor sink = inference && inference->want_probs ? Tensor::empty({G.B, G.H, G.Tq, Tk}) : Tensor();
    float* y = out.data();
    float* saved = save ? probs.data() : nullptr;
    float* sunk = sink.defined() ? sink.data() : nullptr;
    const bool parallel = G.B * G.H * G.Tq * Tk * G.hd >= 2 * kParallelThreshold;
#pragma omp parallel if (parallel)
    {
        Scratch scratch(G.Tq, Tk, mask.active, false);
#pragma omp for schedule(static)
        for (int64_t bh = 0; bh < G.B * G.H; ++bh) {
            const int64_t b = bh / G.H;
            const KeySource kv = call.cache ? *call.cache : KeySource::of_inputs(G, kv_in, b, call.ranges);
            forward_head(G, b, bh % G.H, q_in, kv, y, saved, sunk, scratch, mask, call_seed);
        }
    }
    if (sunk) inference->probs = sink;

    if (save) {
        auto backward = [q_values = call.q.detach(), kv_values = call.kv.detach(), ranges = std::move(call.ranges),
                         probs, G, mask, call_seed, parallel, self](const Grads& g) {
            float* dq = g.input(0);
            float* dkv = self ? dq : g.input(1);
            if (!dq && !dkv) return;
            // (b, g) tasks write disjoint parts of dq and dkv, unless cross attention was handed one
            // tensor as both q and kv: then one buffer takes both and one thread runs the tasks in order.
#pragma omp parallel if (parallel && (self || dq != dkv))
            {
                Scratch scratch(G.Tq, G.Tk, mask.active, true);
#pragma omp for schedule(static)
                for (int64_t bg = 0; bg < G.B * G.H_kv; ++bg)
                    backward_group(G, bg / G.H_kv, bg % G.H_kv, q_values.data(), kv_values.data(), ranges,
                                   probs.data(), g.out, dq, dkv, scratch, mask, call_seed);
            }
        };
        if (self)
            record(out, call.op, {call.q}, std::move(backward));
        else
            record(out, call.op, {call.q, call.kv}, std::move(backward));
    }
    return out;
}

const char* self_attention_name(AttentionMode mode) {
    return mode == AttentionMode::causal ? "causal_self_attention" : "bidirectional_self_attention";
}

}  // namespace

Tensor self_attention(const Tensor& qkv, int64_t n_head, int64_t n_kv_head, AttentionMode mode, float dropout_p,
                      bool training, Generator& generator, const KeyPadding& padding, AttentionInference* inference) {
    const char* op = self_attention_name(mode);
    profile::Scope profile_scope(op);
    const Layout L = attention_layout(qkv, n_head, n_kv_head, op);
    const DropoutMask mask = dropout_mask(op, dropout_p, training);
    const bool cached = inference && inference->keys && inference->values;
    check(!cached || (mode == AttentionMode::causal && padding.empty()), op,
          "a key/value cache is for causal attention without key padding");
    check(!cached || (!needs_grad({&qkv}) && !mask.active), op,
          "a key/value cache is for inference: no gradient, no dropout");
    Call call{op, Geometry::self(L, mode == AttentionMode::causal), true, qkv, qkv, KeyRanges(padding, L.B, L.T, op)};
    const KeySource cache_keys = cached ? append_to_cache(L, qkv.data(), *inference) : KeySource{};
    if (cached) call.cache = &cache_keys;
    return attend(std::move(call), mask, generator, inference);
}

Tensor causal_self_attention(const Tensor& qkv, int64_t n_head, int64_t n_kv_head, float dropout_p, bool training,
                             Generator& generator, AttentionInference* inference) {
    return self_attention(qkv, n_head, n_kv_head, AttentionMode::causal, dropout_p, training, generator, {}, inference);
}

Tensor cross_attention(const Tensor& q, const Tensor& kv, int64_t n_head, int64_t n_kv_head, float dropout_p,
                       bool training, Generator& generator, const KeyPadding& padding, AttentionInference* inference) {
    const char* op = "cross_attention";
    profile::Scope profile_scope(op);
    check(q.defined() && q.dim() == 3, op,
          "q must be [B, Tq, H·hd], got " + (q.defined() ? shape_str(q.shape()) : "undefined"));
    check(kv.defined() && kv.dim() == 3, op,
          "kv must be [B, Tk, 2·H_kv·hd], got " + (kv.defined() ? shape_str(kv.shape()) : "undefined"));
    check(n_head > 0 && n_kv_head > 0 && n_head % n_kv_head == 0, op,
          "n_head " + std::to_string(n_head) + " must be a positive multiple of n_kv_head " + std::to_string(n_kv_head));
    const int64_t B = q.size(0), Tq = q.size(1), Tk = kv.size(1);
    check(q.size(2) > 0 && q.size(2) % n_head == 0, op,
          "q last dim " + std::to_string(q.size(2)) + " is not divisible by n_head " + std::to_string(n_head));
    const int64_t hd = q.size(2) / n_head;
    check(kv.size(0) == B && kv.size(2) == 2 * n_kv_head * hd, op,
          "kv " + shape_str(kv.shape()) + " does not fit q " + shape_str(q.shape()) + ": want [" + std::to_string(B) +
              ", Tk, 2·" + std::to_string(n_kv_head) + "·" + std::to_string(hd) + "]");
    check(!inference || !inference->keys, op, "a key/value cache is for causal self-attention; pass kv itself");
    const int64_t width = 2 * n_kv_head * hd;
    const Geometry G{B, Tq, Tk, n_head, n_kv_head, hd, n_head / n_kv_head, n_head * hd, width, 0, n_kv_head * hd, false};
    const DropoutMask mask = dropout_mask(op, dropout_p, training);
    return attend(Call{op, G, false, q, kv, KeyRanges(padding, B, Tk, op)}, mask, generator, inference);
}

}  // namespace gpt
