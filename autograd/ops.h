// Every differentiable op of the framework. Each is defined in autograd/ops/<family>.cpp with its
// forward and, beside it, the backward closure it records on the tape (see tensor.h for the pattern).
// Shapes use the field's names: B batch, T time, C channels, V vocabulary, H query heads,
// H_kv key/value heads, hd head dim. Shape errors throw std::invalid_argument naming the op and shapes.
#pragma once

#include <cstdint>
#include <vector>

#include "autograd/bf16.h"
#include "autograd/tensor.h"
#include "common/random.h"

namespace gpt {

// ---- elementwise.cpp: NumPy broadcasting (shapes aligned from the right, size-1 axes stretch) ----
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor add_scalar(const Tensor& a, float s);
Tensor mul_scalar(const Tensor& a, float s);
Tensor exp(const Tensor& a);
Tensor log(const Tensor& a);
inline Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
inline Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
inline Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
inline Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
inline Tensor operator+(const Tensor& a, float s) { return add_scalar(a, s); }
inline Tensor operator*(const Tensor& a, float s) { return mul_scalar(a, s); }

// ---- relu.cpp, gelu.cpp ----
Tensor relu(const Tensor& x);
// GPT-2's tanh approximation: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
Tensor gelu(const Tensor& x);

// ---- activations.cpp: the other MLP activations ----
// Squared ReLU (Primer): max(x, 0)², same shape.
Tensor relu_squared(const Tensor& x);
// SwiGLU on a fused projection: x [..., 2·D] → silu(x[..., :D]) ⊙ x[..., D:]  [..., D].
Tensor swiglu(const Tensor& x);
// Exact GELU: x·Φ(x) = ½·x·(1 + erf(x/√2)), same shape (BERT's; PyTorch's F.gelu default).
Tensor gelu_erf(const Tensor& x);

// ---- matmul.cpp: sgemm (ops/gemm.h: the own AVX-512 kernel or cblas_sgemm), transposes passed as flags ----
// a [..., M, K] · b [..., K, N] → [..., M, N]. Batch axes must match exactly, or b is 2-D and is
// shared by every batch entry. transpose_b: b is given as [..., N, K].
Tensor matmul(const Tensor& a, const Tensor& b, bool transpose_b = false);
// x [..., in] · weightᵀ + bias → [..., out]; weight [out, in] as PyTorch stores it; bias [out] or
// an undefined Tensor for none.
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias);

// ---- linear_gelu.cpp ----
// gelu(linear(x, weight, bias)) in one op (the MLP's c_fc): the same values (bits) as the two ops; its
// backward writes GELU's input gradient and sums the bias gradient in one pass.
Tensor linear_gelu(const Tensor& x, const Tensor& weight, const Tensor& bias);

// ---- linear_bf16.cpp: inference only (no backward) ----
// linear with a bf16 copy of the weight (autograd/bf16.h): x [..., in] · Wᵀ + bias → [..., out], W [out,
// in] widened to float32 in registers, float32 accumulation. Throws when a gradient would be needed (x or
// bias requiring grad in grad mode): nothing is trained through bf16 weights.
Tensor linear_bf16(const Tensor& x, const Bf16Matrix& weight, const Tensor& bias);

// ---- reduction.cpp ----
Tensor sum(const Tensor& x, int64_t axis, bool keepdim = false);
Tensor mean(const Tensor& x, int64_t axis, bool keepdim = false);
Tensor sum_all(const Tensor& x);   // → shape []
Tensor mean_all(const Tensor& x);  // → shape []

// ---- shape.cpp ----
Tensor reshape(const Tensor& x, const Shape& shape);          // a view of the same storage; -1 once
Tensor transpose(const Tensor& x, int64_t axis0, int64_t axis1);  // copies (storage stays contiguous)
Tensor permute(const Tensor& x, const std::vector<int64_t>& order);
std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int64_t axis);
Tensor concat(const std::vector<Tensor>& xs, int64_t axis);

// ---- embedding.cpp ----
// weight [V, C], ids (values in [0, V)) shaped ids_shape → ids_shape + [C]. Backward scatter-adds rows.
Tensor embedding(const Tensor& weight, const std::vector<int32_t>& ids, const Shape& ids_shape);

// ---- softmax.cpp: over the last axis, max-subtracted for stability ----
Tensor softmax(const Tensor& x);
Tensor log_softmax(const Tensor& x);
// scores [..., T, T]: entries above the diagonal (key j > query i) become -inf.
Tensor causal_mask(const Tensor& scores);

// ---- layer_norm.cpp: per row of the last axis C: (x − mean)/√(var + eps)·weight + bias ----
Tensor layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, float eps = 1e-5f);
// A residual sum and its normalisation (a pre-norm block's x + f(…) and the next sublayer's input).
struct AddNorm {
    Tensor sum;     // x + y
    Tensor normed;  // the norm of sum
};
// The residual add fused with the LayerNorm that reads it: sum = x + y, normed = layer_norm(sum, weight,
// bias, eps), in one pass over the rows forward and one backward, with the bits of add then layer_norm.
// x, y [..., C] of one shape (no broadcasting).
AddNorm add_layer_norm(const Tensor& x, const Tensor& y, const Tensor& weight, const Tensor& bias, float eps = 1e-5f);

// ---- rms_norm.cpp: per row of the last axis C: x / √(mean(x²) + eps) · weight (no mean, no bias) ----
// weight [C] or undefined (1).
Tensor rms_norm(const Tensor& x, const Tensor& weight, float eps = 1e-5f);
// QK-norm on the fused qkv [B, T, (H + 2·H_kv)·hd] (the layout of causal_self_attention below): each q
// head is RMS-normalised over its hd floats and scaled by q_weight [hd], each k head by k_weight [hd]
// (either undefined: 1); the v heads are copied. Same shape.
Tensor qk_rms_norm(const Tensor& qkv, const Tensor& q_weight, const Tensor& k_weight, int64_t n_head,
                   int64_t n_kv_head, float eps = 1e-5f);

// ---- dropout.cpp: inverted dropout, keeps with probability 1 − p and scales by 1/(1 − p) ----
// Identity (no copy, no RNG draw) when !training or p == 0.
Tensor dropout(const Tensor& x, float p, bool training, Generator& generator);

// ---- cross_entropy.cpp: fused log-softmax + negative log-likelihood ----
// logits [..., V], targets one per row (numel / V of them). Mean over rows whose target differs from
// ignore_index → shape []. Targets outside [0, V) other than ignore_index throw. label_smoothing ε in
// [0, 1]: the target distribution is (1 − ε)·onehot + ε/V, as PyTorch's F.cross_entropy(label_smoothing=ε).
Tensor cross_entropy(const Tensor& logits, const std::vector<int32_t>& targets, int32_t ignore_index = -100,
                     float label_smoothing = 0.0f);

// ---- rope.cpp: rotary position embedding (RoFormer; GPT-NeoX "rotate half" pairing, base 10000) ----
// x [B, T, W], W = n·hd: n heads of hd (even) floats side by side. The first `rotated_heads` heads of
// every row are rotated by their position p = position_offset + t; the rest of the row is copied (so
// the fused qkv can be passed whole with rotated_heads = H + H_kv). Dimension i < hd/2 of a head pairs
// with i + hd/2, at angle p·base^(−2i/hd). position_offset: where this call's first token sits (the
// KV cache's length at inference).
Tensor rope(const Tensor& x, int64_t head_dim, int64_t rotated_heads, int64_t position_offset = 0,
            double base = 10000.0);

// ---- attention.cpp: fused attention (causal, bidirectional, cross), grouped-query aware ----
// qkv [B, T, (H + 2·H_kv)·hd] as the fused c_attn projection produces it: the q block (H heads, each
// hd wide), then the k block (H_kv heads), then the v block. Query head h reads kv head h / (H/H_kv).
// out[b, t, h·hd:(h+1)·hd] = Σ_{s≤t} dropout(softmax_s(q·k_s/√hd)) v_s → [B, T, H·hd].
// The causal mask is applied in the loop (masked scores are never computed). docs/attention.md,
// "Bidirectional and cross attention", describes the other modes and the key padding.
//
// The one written form of that layout: every caller that needs a head's q, k or v (the KV cache, the
// report, the explainer) takes the offsets from here.
struct AttentionLayout {
    int64_t B, T, H, H_kv, hd;
    int64_t row;    // (H + 2·H_kv)·hd: one token's q, k and v
    int64_t group;  // H / H_kv query heads share one kv head

    int64_t token(int64_t b, int64_t t) const { return (b * T + t) * row; }
    int64_t q(int64_t b, int64_t t, int64_t h) const { return token(b, t) + h * hd; }
    int64_t k(int64_t b, int64_t t, int64_t g) const { return token(b, t) + (H + g) * hd; }
    int64_t v(int64_t b, int64_t t, int64_t g) const { return token(b, t) + (H + H_kv + g) * hd; }
    int64_t kv_row() const { return H_kv * hd; }  // one token's keys (or values) in a cache row
    int64_t out(int64_t b, int64_t t, int64_t h) const { return (b * T + t) * H * hd + h * hd; }
};
// Checks qkv's shape against n_head / n_kv_head and returns its layout; errors name `op`.
AttentionLayout attention_layout(const Tensor& qkv, int64_t n_head, int64_t n_kv_head,
                                 const char* op = "causal_self_attention");

// What inference adds to the same op (generation, evaluation, the report, the explainer):
// - a key/value cache (keys and values both set; B must be 1; no tape): rows of H_kv·hd floats, rows
//   0..cached−1 already filled by earlier calls. This call writes its T keys and values into rows
//   cached..cached+T−1 and its query i (position cached + i) attends over rows 0..cached+i.
//   capacity is the number of rows allocated; cached + T must not exceed it.
// - a probability sink (want_probs): the op stores P [B, H, T, cached + T] in `probs`, row i holding
//   the softmax over keys 0..cached+i and zeros after (before dropout, as the maps should show).
struct AttentionInference {
    float* keys = nullptr;
    float* values = nullptr;
    int64_t cached = 0;
    int64_t capacity = 0;
    bool want_probs = false;
    Tensor probs;  // output
};
Tensor causal_self_attention(const Tensor& qkv, int64_t n_head, int64_t n_kv_head, float dropout_p, bool training,
                             Generator& generator, AttentionInference* inference = nullptr);

// Keys that a batch row's queries must not attend to: the padding of a batch of sequences of different
// lengths (Tk keys per row). At most one of the two forms (both empty: no padding):
//   lengths [B]: keys lengths[b]..Tk−1 of row b are padding (right padding), 0 ≤ lengths[b] ≤ Tk;
//   mask [B·Tk]: mask[b·Tk + j] != 0 marks key j of row b as padding (PyTorch's key_padding_mask).
// A padded key gets probability 0. A query that sees no key at all (every key it could see is
// padding) gets probability 0 for every key: its output row is 0 and it passes no gradient, where
// PyTorch's softmax over a row of −∞ gives NaN.
struct KeyPadding {
    std::vector<int64_t> lengths;
    std::vector<uint8_t> mask;
    bool empty() const { return lengths.empty() && mask.empty(); }
};

// causal: query i sees keys 0..i (a decoder; GPT). bidirectional: every query sees every key (an encoder;
// BERT).
enum class AttentionMode { causal, bidirectional };

// Self-attention on the fused qkv (layout above) in either mode, with optional key padding. Causal
// without padding is causal_self_attention, bit for bit. `inference`: the probability sink in every
// mode ([B, H, T, T], padded keys 0); the key/value cache only in causal mode without padding.
Tensor self_attention(const Tensor& qkv, int64_t n_head, int64_t n_kv_head, AttentionMode mode, float dropout_p,
                      bool training, Generator& generator, const KeyPadding& padding = {},
                      AttentionInference* inference = nullptr);

// Cross (encoder–decoder) attention: queries from one sequence, keys and values from another.
//   q [B, Tq, H·hd] (the decoder's query projection), kv [B, Tk, 2·H_kv·hd] (the k block of H_kv heads,
//   then the v block, projected from the encoder's output) → out [B, Tq, H·hd];
//   out[b, i, h] = Σ_j dropout(softmax_j(q_i·k_j/√hd)) v_j over every key j of row b that is not padding.
// `inference`: the probability sink only ([B, H, Tq, Tk]); generation passes the same kv (projected
// once per source) at every step, so no cache is needed.
Tensor cross_attention(const Tensor& q, const Tensor& kv, int64_t n_head, int64_t n_kv_head, float dropout_p,
                       bool training, Generator& generator, const KeyPadding& padding = {},
                       AttentionInference* inference = nullptr);

}  // namespace gpt
