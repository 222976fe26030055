// forward_view and generate_view (serve/api.h). Shapes: T prompt tokens, L layers, H heads, C width,
// V vocabulary.
#include <algorithm>
#include <cmath>
#include <numeric>

#include <nlohmann/json.hpp>

#include "generate/generate.h"
#include "serve/api.h"
#include "serve/request.h"

namespace gpt {

using nlohmann::json;

namespace {

// Rows of a [.., T, D] tensor of batch 1 as nested arrays [T][D].
json rows(const Tensor& t, int64_t T) {
    const int64_t D = t.numel() / T;
    json out = json::array();
    for (int64_t i = 0; i < T; ++i) out.push_back(std::vector<float>(t.data() + i * D, t.data() + (i + 1) * D));
    return out;
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
// after temperature: which survive top-k and top-p. `final` is sampling_distribution itself (what
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
    return {{"options",
             {{"temperature", options.temperature}, {"top_k", options.top_k}, {"top_p", options.top_p},
              {"repetition_penalty", options.repetition_penalty}}},
            {"candidates", candidates},
            {"probs", probs},
            {"kept", kept}};
}

}  // namespace

json forward_view(const LoadedCheckpoint& checkpoint, const json& request) {
    const GPT& model = *checkpoint.model;
    const Tokenizer& tokenizer = *checkpoint.tokenizer;
    const std::vector<int32_t> ids = prompt_ids(checkpoint, request);
    const SamplingOptions options = sampling_options(request);
    const int64_t T = static_cast<int64_t>(ids.size());

    NoGradGuard no_grad;
    ForwardProbe inference;
    inference.record_attention = true;
    inference.record_activations = true;
    const Tensor hidden = model.hidden(ids, 1, T, &inference);
    const Tensor logits = model.logits_from_hidden(hidden);  // [1, T, V]
    const int64_t V = model.config().tokens();
    const float* last = logits.data() + (T - 1) * logits.size(-1);

    json tokens = json::array();
    for (const int32_t id : ids) tokens.push_back(token_json(tokenizer, id));
    // The two halves of the embedding, read from the weights; their sum is the forward's own tensor.
    json token_embedding = json::array();
    const int64_t C = model.config().n_embd;
    const float scale = model.token_scale();  // √C with sinusoidal positions, else 1
    for (const int32_t id : ids) {
        std::vector<float> row(model.wte->weight.data() + id * C, model.wte->weight.data() + (id + 1) * C);
        for (float& v : row) v *= scale;
        token_embedding.push_back(std::move(row));
    }
    // Learned or sinusoidal positions are added here; rotary ones (no wpe) enter inside attention.
    const json positions = model.wpe ? rows(model.wpe->forward(T, 0), T) : json(nullptr);  // [T, C]

    json attention = json::array(), gelu = json::array(), latent = json::array(), mid_norms = json::array(),
         out_norms = json::array();
    for (size_t l = 0; l < inference.attention.size(); ++l) {
        const Tensor& p = inference.attention[l];  // [1, H, T, T]
        json heads = json::array();
        for (int64_t h = 0; h < p.size(1); ++h) {
            json matrix = json::array();
            for (int64_t i = 0; i < T; ++i) {
                const float* row = p.data() + (h * T + i) * T;
                matrix.push_back(std::vector<float>(row, row + T));
            }
            heads.push_back(std::move(matrix));
        }
        attention.push_back(std::move(heads));
        const BlockActivations& a = inference.activations[l];
        gelu.push_back(rows(a.gelu, T));
        if (a.latent.defined()) latent.push_back(rows(a.latent, T));  // MLA: c_KV [T, d_c], what is cached
        mid_norms.push_back(row_norms(a.residual_mid, T));
        out_norms.push_back(row_norms(a.out, T));
    }
    return {{"tokens", tokens},
            {"T", T},
            {"embeddings", {{"token", token_embedding}, {"position", positions}, {"sum", rows(inference.embedding, T)}}},
            {"attention", attention},
            {"residual_norms", {{"embedding", row_norms(inference.embedding, T)}, {"mid", mid_norms}, {"out", out_norms}}},
            {"gelu", gelu},
            {"latent", latent},  // empty unless attention = "mla"
            {"sampling", sampling_steps(tokenizer, std::vector<float>(last, last + V), ids, options)}};
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
    return {{"tokens", tokens}, {"text", result.text}, {"end_of_text", result.reason == StopReason::end_of_text}};
}

}  // namespace gpt
