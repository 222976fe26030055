// forward_view and generate_view (serve/api.h). Shapes: T prompt tokens, L layers, H heads, C width,
// V vocabulary.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>

#include <nlohmann/json.hpp>

#include "data/masked_lm.h"
#include "generate/generate.h"
#include "serve/api.h"
#include "serve/forward_cache.h"
#include "serve/request.h"
#include "serve/token_stages.h"

namespace gpt {

using nlohmann::json;

namespace {

// Rows of a [.., T, D] tensor of batch 1 as nested arrays [T][D], 4 significant digits (compact_row).
json rows(const Tensor& t, int64_t T) {
    const int64_t D = t.numel() / T;
    json out = json::array();
    for (int64_t i = 0; i < T; ++i) out.push_back(compact_row(t.data() + i * D, D));
    return out;
}

// "include": which matrices to send, a list of "attention", "gelu", "embeddings", "latent", "stages"; all
// by default.
struct Parts {
    bool attention = true, gelu = true, embeddings = true, latent = true, stages = true;
};

Parts parts_field(const json& request) {
    if (!request.contains("include") || request["include"].is_null()) return {};
    const json& list = request["include"];
    const char* names = "\"attention\", \"gelu\", \"embeddings\", \"latent\" or \"stages\"";
    if (!list.is_array()) throw BadRequest(std::string("include must be an array of ") + names);
    Parts parts{false, false, false, false, false};
    for (const json& item : list) {
        const std::string name = item.is_string() ? item.get<std::string>() : "";
        if (name == "attention") parts.attention = true;
        else if (name == "gelu") parts.gelu = true;
        else if (name == "embeddings") parts.embeddings = true;
        else if (name == "latent") parts.latent = true;
        else if (name == "stages") parts.stages = true;
        else throw BadRequest(std::string("include must hold ") + names);
    }
    return parts;
}

// The matrices one answer sends: attention[l][h], gelu[l], latent[l] for the n_layer × n_head of the
// model, and the embeddings; `left_out`: something asked for is not sent (a "fit" answer over the bound).
struct Selection {
    std::vector<std::vector<bool>> attention;
    std::vector<bool> gelu, latent;
    bool embeddings = false, left_out = false;
};

// What the answer sends of what the request asks for ("layers" × "heads" of the "include"d matrices),
// from upper bounds on the bytes computed from the shapes alone before any work: every number at most 11
// bytes ("-1.234e-05,"), the masked upper triangle of causal attention 2 ("0,"). An answer that could exceed
// kMaxResponseBytes is refused (413 naming the limit and what to ask for instead) unless the request says
// "fit": true; then it sends what fits, in the page's order -- attention by layer and head as listed,
// the MLA latents, the MLP activations by layer, the embeddings -- each matrix whole or not at all, and
// says "truncated": true. The tokens, residual norms, stages and sampling are always sent.
Selection select_matrices(const GPTConfig& c, int64_t T, const std::vector<int64_t>& layers,
                          const std::vector<int64_t>& heads, const Parts& parts, bool fit) {
    const auto t = static_cast<double>(T);
    // One head's [T, T]: causal, the upper triangle is "0,"; bidirectional (bert), the whole matrix.
    const double head_bytes = c.bidirectional() ? t * t * 11 : t * (t + 1) / 2 * 11 + t * (t - 1) / 2 * 2;
    const double gelu_bytes = t * static_cast<double>(c.mlp_hidden_dim()) * 11;      // activations [T, D]
    const double latent_bytes = t * static_cast<double>(c.kv_latent_dim) * 11;       // MLA latent [T, d_c]
    const double embedding_bytes = 3 * t * static_cast<double>(c.n_embd) * 11;      // token, position, sum [T, C]
    const double fixed = (parts.stages ? token_stages_bytes(c, T) : 0.0) + 64 * 1024;
    const auto L = static_cast<size_t>(c.n_layer);
    const bool has_latent = c.mla();
    Selection s{std::vector<std::vector<bool>>(L, std::vector<bool>(static_cast<size_t>(c.n_head), false)),
                std::vector<bool>(L, false), std::vector<bool>(L, false)};
    const double all = fixed + static_cast<double>(layers.size()) *
                                   ((parts.attention ? static_cast<double>(heads.size()) * head_bytes : 0.0) +
                                    (parts.gelu ? gelu_bytes : 0.0) + (parts.latent && has_latent ? latent_bytes : 0.0)) +
                       (parts.embeddings ? embedding_bytes : 0.0);
    if (!fit && all > static_cast<double>(kMaxResponseBytes)) {
        char text[384];
        std::snprintf(text, sizeof text,
                      "the forward view of %lld tokens for %zu layers x %zu heads would be up to %.1f MB; the limit is "
                      "%zu bytes (%.0f MB): ask for less with \"layers\", \"heads\" (lists of indices) and "
                      "\"include\", a shorter prompt, or \"fit\": true (what fits)",
                      static_cast<long long>(T), layers.size(), heads.size(), all / 1e6, kMaxResponseBytes,
                      static_cast<double>(kMaxResponseBytes) / (1024.0 * 1024.0));
        throw ResponseTooLarge(text);
    }
    ResponseBudget budget(static_cast<double>(kMaxResponseBytes) - fixed);
    auto take = [&](bool wanted, double bytes) { return wanted && budget.take(bytes); };
    for (const int64_t l : layers)
        for (const int64_t h : heads)
            s.attention[static_cast<size_t>(l)][static_cast<size_t>(h)] = take(parts.attention, head_bytes);
    for (const int64_t l : layers) s.latent[static_cast<size_t>(l)] = take(parts.latent && has_latent, latent_bytes);
    for (const int64_t l : layers) s.gelu[static_cast<size_t>(l)] = take(parts.gelu, gelu_bytes);
    s.embeddings = take(parts.embeddings, embedding_bytes);
    s.left_out = budget.left_out();
    return s;
}

// ‖x_i‖ for each of the T rows of a [1, T, C] tensor: how large the residual stream is at each position.
std::vector<float> row_norms(const Tensor& t, int64_t T) {
    const int64_t D = t.numel() / T;
    std::vector<float> out(static_cast<size_t>(T));
    for (int64_t i = 0; i < T; ++i) {
        double sum = 0.0;
        for (int64_t d = 0; d < D; ++d) sum += static_cast<double>(t.data()[i * D + d]) * t.data()[i * D + d];
        out[static_cast<size_t>(i)] = static_cast<float>(std::sqrt(sum));
    }
    return out;
}

// The sampling steps of generate/sampling.h one at a time, for the kTopCandidates most probable tokens
// after temperature: their logits, logits / T (null at T = 0: greedy), which survive top-k and top-p. `final` is sampling_distribution itself (what
// generate() draws from and `gpt sample --show_probs` prints), so the page shows the code's numbers.
json sampling_steps(const Tokenizer& tokenizer, std::vector<float> logits, std::span<const int32_t> context,
                    const SamplingOptions& options) {
    const std::vector<float> final = sampling_distribution(logits, context, options);
    const std::vector<float> raw = logits;
    apply_repetition_penalty(logits, context, options.repetition_penalty);
    const std::vector<float> tempered = softmax_with_temperature(logits, options.temperature);
    std::vector<float> after_k = tempered;
    keep_top_k(after_k, options.top_k);
    std::vector<float> after_p = after_k;
    keep_top_p(after_p, options.top_p);
    json candidates = json::array();
    for (const Candidate& c : top_candidates(tempered, kTopCandidates)) {
        const auto i = static_cast<size_t>(c.id);
        json token = token_json(tokenizer, c.id);
        token["logit"] = raw[i];
        token["logit_penalised"] = logits[i];
        token["logit_over_t"] = options.temperature > 0 ? json(compact_number(logits[i] / options.temperature)) : json(nullptr);
        token["p_temperature"] = tempered[i];
        token["p_top_k"] = after_k[i];
        token["p_final"] = after_p[i];
        candidates.push_back(std::move(token));
    }
    json probs = json::array();
    for (const Candidate& c : top_candidates(final, kTopCandidates)) {
        json token = token_json(tokenizer, c.id);
        token["p"] = c.probability;
        probs.push_back(std::move(token));
    }
    const auto kept = std::count_if(final.begin(), final.end(), [](float p) { return p > 0.0f; });
    json echoed = json::object();  // the options as applied, every field of generate/sampling.h's table
    for (const SamplingField& f : sampling_fields())
        echoed[f.name] = f.integer ? json(options.*f.integer) : json(options.*f.number);
    return {{"options", echoed},
            {"candidates", candidates},
            {"probs", probs},
            {"kept", kept},
            {"vocabulary", logits.size()}};
}

}  // namespace

json forward_view(const LoadedCheckpoint& checkpoint, const json& request, ForwardCache* cache) {
    const GPT& model = *checkpoint.model;
    const Tokenizer& tokenizer = *checkpoint.tokenizer;
    std::vector<int32_t> ids = prompt_ids(checkpoint, request);
    const SamplingOptions options = sampling_options(request);
    const int64_t T = static_cast<int64_t>(ids.size());
    // Attention maps, GELU outputs and MLA latents for these layers, attention for these heads (the
    // others are null), and only the matrices "include" names; all by default. "fit": what fits the bound.
    const std::vector<int64_t> layers = index_list_field(request, "layers", model.config().n_layer);
    const std::vector<int64_t> heads = index_list_field(request, "heads", model.config().n_head);
    const Parts parts = parts_field(request);
    const bool fit = fit_field(request);
    const Selection sent = select_matrices(model.config(), T, layers, heads, parts, fit);
    // The token the stage views and the next-token bars are for (its prediction of the token after it),
    // the layer and head whose details the stage views show; by default the last token, layer 0, head 0.
    StageRequest stage;
    stage.position = integer_field(request, "position", T - 1, 0, T - 1);
    stage.layer = integer_field(request, "stage_layer", 0, 0, model.config().n_layer - 1);
    stage.head = integer_field(request, "stage_head", 0, 0, model.config().n_head - 1);
    // What the bars at `position` are: a GPT's prediction of the next token; a bert's (masked LM) of the
    // token at the position itself, as it reads it, or with "mask": true of a [MASK] put there.
    const bool bert = model.config().bidirectional();
    if (request.contains("mask") && !request["mask"].is_null() && !request["mask"].is_boolean())
        throw BadRequest("mask must be true or false");
    const bool mask = request.contains("mask") && request["mask"].is_boolean() && request["mask"].get<bool>();
    if (mask && !bert) throw BadRequest("mask is for model = bert (a masked LM); this run is model = gpt");
    if (mask) {
        try {
            ids[static_cast<size_t>(stage.position)] = MaskedLmTokens::of(tokenizer).mask;
        } catch (const std::invalid_argument& e) {
            throw BadRequest(std::string("mask: ") + e.what());
        }
    }

    NoGradGuard no_grad;
    // The forward with attention and activations recorded: the one kept from the last request when it
    // was about the same prompt (the page's second request, a slider, another token or head).
    const std::shared_ptr<const RecordedForward> recorded =
        cache ? cache->get(model, ids) : std::make_shared<const RecordedForward>(record_forward(model, ids));
    const ForwardProbe& inference = recorded->probe;
    // ln_f and the [V, C] projection on the chosen position's row only: the bars need no other (on a
    // GPT-2-sized vocabulary the projection of every position would be a third of the forward's work).
    const int64_t C = model.config().n_embd;
    Tensor chosen_hidden = Tensor::empty({1, C});
    std::copy_n(recorded->hidden.data() + stage.position * C, C, chosen_hidden.data());
    const Tensor logits = model.logits_from_hidden(chosen_hidden);  // [1, V]
    const int64_t V = model.config().tokens();
    const float* chosen = logits.data();
    const std::span<const int32_t> context(ids.data(), static_cast<size_t>(stage.position + 1));

    json tokens = json::array();
    for (const int32_t id : ids) tokens.push_back(token_json(tokenizer, id));
    // The two halves of the embedding, read from the weights; their sum is the forward's own tensor.
    json embeddings = nullptr;  // left out unless "include" names it (and it fits)
    if (sent.embeddings) {
        json token_embedding = json::array();
        const float scale = model.token_scale();  // √C with sinusoidal positions, else 1
        std::vector<float> row(static_cast<size_t>(C));
        for (const int32_t id : ids) {
            for (int64_t c = 0; c < C; ++c) row[static_cast<size_t>(c)] = model.wte->weight.data()[id * C + c] * scale;
            token_embedding.push_back(compact_row(row.data(), C));
        }
        // Learned or sinusoidal positions are added here; rotary ones (no wpe) enter inside attention.
        const json positions = model.wpe ? rows(model.wpe->forward(T, 0), T) : json(nullptr);  // [T, C]
        embeddings = {{"token", token_embedding}, {"position", positions}, {"sum", rows(inference.embedding, T)}};
    }

    const size_t L = inference.attention.size();
    json attention(L, nullptr), gelu(L, nullptr), latent = json::array(), mid_norms = json::array(),
         out_norms = json::array();
    const bool has_latent = L > 0 && inference.activations[0].attention.latent.defined();
    if (has_latent) latent = json(L, nullptr);
    for (const int64_t layer : layers) {
        const auto l = static_cast<size_t>(layer);
        const Tensor& p = inference.attention[l];  // [1, H, T, T]
        json by_head(static_cast<size_t>(p.size(1)), nullptr);
        for (const int64_t h : heads) {
            if (!sent.attention[l][static_cast<size_t>(h)]) continue;
            json matrix = json::array();
            for (int64_t i = 0; i < T; ++i) matrix.push_back(compact_row(p.data() + (h * T + i) * T, T));
            by_head[static_cast<size_t>(h)] = std::move(matrix);
        }
        attention[l] = std::move(by_head);
        if (sent.gelu[l]) gelu[l] = rows(inference.activations[l].gelu, T);
        if (has_latent && sent.latent[l]) latent[l] = rows(inference.activations[l].attention.latent, T);  // MLA: c_KV [T, d_c], cached
    }
    for (size_t l = 0; l < L; ++l) {
        const BlockActivations& a = inference.activations[l];
        mid_norms.push_back(compact_row(row_norms(a.residual_mid, T).data(), T));
        out_norms.push_back(compact_row(row_norms(a.out, T).data(), T));
    }
    return {{"tokens", tokens},
            {"T", T},
            {"embeddings", embeddings},
            {"attention", attention},
            {"residual_norms",
             {{"embedding", compact_row(row_norms(inference.embedding, T).data(), T)}, {"mid", mid_norms}, {"out", out_norms}}},
            {"gelu", gelu},
            {"latent", latent},  // empty unless attention = "mla"
            {"position", stage.position},
            {"predicts", !bert ? "next" : mask ? "masked" : "token"},  // what the bars at `position` are
            {"stages", parts.stages ? token_stages(model, ids, inference, stage) : json(nullptr)},
            {"sampling", sampling_steps(tokenizer, std::vector<float>(chosen, chosen + V), context, options)},
            {"truncated", sent.left_out}};  // "fit": some of what was asked for is not sent (the bound)
}

json generate_view(const LoadedCheckpoint& checkpoint, const json& request) {
    const std::vector<int32_t> ids = prompt_ids(checkpoint, request);
    GenerateOptions options;
    options.sampling = sampling_options(request);
    options.max_new_tokens = integer_field(request, "n", 1, 1, kMaxNewTokens);
    Generator generator(static_cast<uint64_t>(integer_field(request, "seed", 1337, 0, INT64_MAX)));
    const GenerateResult result = generate(*checkpoint.model, *checkpoint.tokenizer, ids, options, generator);
    json tokens = json::array();
    for (const int32_t id : result.tokens) tokens.push_back(token_json(*checkpoint.tokenizer, id));
    // length: the prompt's tokens and the new ones (the page's stream stops at block_size without a forward).
    return {{"tokens", tokens},
            {"text", result.text},
            {"length", ids.size() + result.tokens.size()},
            {"end_of_text", result.reason == StopReason::end_of_text}};
}

}  // namespace gpt
