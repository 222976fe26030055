// token_stages (serve/token_stages.h). Shapes: T tokens, C width, H query heads, H_kv key/value heads of
// width d (the attention op's), D the MLP's hidden width.
#include "serve/token_stages.h"

#include <cmath>

#include <nlohmann/json.hpp>

#include "serve/request.h"

namespace gpt {

using nlohmann::json;

namespace {

// Row i of a [1, T, D] tensor, 4 significant digits.
json row(const Tensor& t, int64_t i) {
    const int64_t D = t.size(-1);
    return compact_row(t.data() + i * D, D);
}

// The attention op's layout of one layer's recorded qkv: multi-head latent attention's explicit form
// runs the op with as many key/value heads as query heads.
AttentionLayout layout_of(const GPTConfig& c, const AttentionRecord& record) {
    return attention_layout(record.qkv, c.n_head, c.mla() ? c.n_head : c.kv_heads());
}

// The keys token i's query reads: j ≤ i (causal), every j < T (bidirectional: bert).
int64_t keys_read(const GPTConfig& c, int64_t T, int64_t i) { return c.bidirectional() ? T : i + 1; }

// One query head h at token i over its n keys: its q, k, v, scores, softmax row (the op's sink P
// [1, H, T, T]) and output.
json head_json(const AttentionLayout& L, const AttentionRecord& record, const Tensor& probs, int64_t i, int64_t n, int64_t h) {
    const float* qkv = record.qkv.data();
    const int64_t g = h / L.group, T = L.T;
    const float* q = qkv + L.q(0, i, h);
    const double scale = 1.0 / std::sqrt(static_cast<double>(L.hd));
    std::vector<float> scores(static_cast<size_t>(n));
    for (int64_t j = 0; j < n; ++j) {  // q_i·k_j/√d in double: the op's own inputs, its own scale
        const float* k = qkv + L.k(0, j, g);
        double dot = 0.0;
        for (int64_t e = 0; e < L.hd; ++e) dot += static_cast<double>(q[e]) * k[e];
        scores[static_cast<size_t>(j)] = static_cast<float>(dot * scale);
    }
    return {{"kv_head", g},
            {"q", compact_row(q, L.hd)},
            {"k", compact_row(qkv + L.k(0, i, g), L.hd)},
            {"v", compact_row(qkv + L.v(0, i, g), L.hd)},
            {"scores", compact_row(scores.data(), n)},
            {"probs", compact_row(probs.data() + (h * T + i) * T, n)},
            {"output", compact_row(record.heads.data() + L.out(0, i, h), L.hd)}};
}

// The keys and values of kv head g at tokens 0..n−1: what head h's row of scores and weighted sum read.
json keys_values(const AttentionLayout& L, const AttentionRecord& record, int64_t n, int64_t g) {
    json keys = json::array(), values = json::array();
    for (int64_t j = 0; j < n; ++j) {
        keys.push_back(compact_row(record.qkv.data() + L.k(0, j, g), L.hd));
        values.push_back(compact_row(record.qkv.data() + L.v(0, j, g), L.hd));
    }
    return {{"keys", keys}, {"values", values}};
}

json layer_json(const GPT& model, const ForwardProbe& probe, const StageRequest& r) {
    const auto l = static_cast<size_t>(r.layer);
    const BlockActivations& a = probe.activations[l];
    const AttentionLayout L = layout_of(model.config(), a.attention);
    const int64_t i = r.position;
    json heads = json::array();
    const int64_t n = keys_read(model.config(), L.T, i);
    for (int64_t h = 0; h < L.H; ++h) heads.push_back(head_json(L, a.attention, probe.attention[l], i, n, h));
    const Tensor& input = l == 0 ? probe.embedding : probe.activations[l - 1].out;
    json out = {{"index", r.layer},
                {"head", r.head},
                {"head_dim", L.hd},
                {"scale", 1.0 / std::sqrt(static_cast<double>(L.hd))},
                {"input", row(input, i)},
                {"ln_1", row(a.attn_in, i)},
                {"heads", heads},
                {"head_detail", keys_values(L, a.attention, n, r.head / L.group)},
                {"concat", row(a.attention.heads, i)},
                {"attn_out", row(a.attn_out, i)},
                {"residual_mid", row(a.residual_mid, i)},
                {"ln_2", row(a.mlp_in, i)},
                {"fc", row(a.fc, i)},
                {"activation", row(a.gelu, i)},
                {"mlp_out", row(a.mlp_out, i)},
                {"out", row(a.out, i)},
                {"latent", a.attention.latent.defined() ? row(a.attention.latent, i) : json(nullptr)}};
    return out;
}

json embedding_json(const GPT& model, const std::vector<int32_t>& ids, const ForwardProbe& probe, int64_t i) {
    const int64_t C = model.config().n_embd;
    const float scale = model.token_scale();  // √C with sinusoidal positions, else 1
    std::vector<float> token(static_cast<size_t>(C));
    const float* weight = model.wte->weight.data() + static_cast<int64_t>(ids[static_cast<size_t>(i)]) * C;
    for (int64_t c = 0; c < C; ++c) token[static_cast<size_t>(c)] = weight[c] * scale;
    // Learned or sinusoidal positions are added here; rotary ones (no wpe) enter inside attention.
    json position = nullptr;
    if (model.wpe) position = row(model.wpe->forward(i + 1, 0), i);  // [i+1, C]
    return {{"token", compact_row(token.data(), C)}, {"token_scale", scale}, {"position", position},
            {"sum", row(probe.embedding, i)}};
}

}  // namespace

json token_stages(const GPT& model, const std::vector<int32_t>& ids, const ForwardProbe& probe, const StageRequest& r) {
    const Tensor& hidden = probe.activations.back().out;  // the last block's output [1, T, C]
    const Tensor normed = model.ln_f->forward(hidden);    // ln_f, as logits_from_hidden applies it
    return {{"position", r.position},
            {"embedding", embedding_json(model, ids, probe, r.position)},
            {"layer", layer_json(model, probe, r)},
            {"final_input", row(hidden, r.position)},
            {"ln_f", row(normed, r.position)}};
}

double token_stages_bytes(const GPTConfig& c, int64_t T) {
    const auto t = static_cast<double>(T), C = static_cast<double>(c.n_embd);
    const double d = static_cast<double>(c.head_dim() + c.mla_rope_dim()), H = static_cast<double>(c.n_head);
    const double D = static_cast<double>(c.mlp_hidden_dim());
    // per head q, k, v, output and two rows of T; one head's keys and values; 14 vectors of C; c_fc (≤ 2D)
    // and the activation (D); the latent; every number at most 11 bytes
    const double numbers = H * (4 * d + 2 * t) + 2 * t * d + 14 * C + 3 * D + static_cast<double>(c.kv_latent_dim);
    return numbers * 11 + 4096;
}

}  // namespace gpt
