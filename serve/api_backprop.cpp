// backprop_view (serve/api.h): one example (the prompt's first position+1 tokens, a target token for the
// last of them) through forward, cross-entropy and backward on the tape, as train_step does for a batch:
//   x = GPT::hidden(ids[0..p]) → logits [1, p+1, V] → loss = −log softmax(logits[p])[target]
//   (the other rows carry ignore_index, so only position p's prediction is scored)
//   loss.backward() → dL/dθ for every parameter, dL/d(embedding) [p+1, C] (retain_grad), every tape
//   tensor's ‖gradient‖ (autograd/tape_graph.h)
// "step": θ' = θ − lr·∇θ (sgd) or one AdamW step from zero moments, applied to a scratch copy of the
// model; the served model and the checkpoint on disk are never changed.
#include <cmath>

#include <nlohmann/json.hpp>

#include "autograd/ops.h"
#include "autograd/tape_graph.h"
#include "optim/adamw.h"
#include "serve/api.h"
#include "serve/request.h"

namespace gpt {

using nlohmann::json;

namespace {

double norm(const float* values, int64_t n) {
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(values[i]) * values[i];
    return std::sqrt(sum);
}

// Loss and the probabilities of `ids` at the last position, without a tape.
struct Prediction {
    double loss = 0.0;
    std::vector<float> probs;  // [V]
};
Prediction predict(const GPT& model, const std::vector<int32_t>& ids, int32_t target) {
    NoGradGuard no_grad;
    const auto T = static_cast<int64_t>(ids.size());
    const Tensor logits = model.forward(ids, 1, T);
    const int64_t V = model.config().tokens(), stride = logits.size(-1);
    const float* row = logits.data() + (T - 1) * stride;
    Prediction out;
    out.probs = softmax_with_temperature(std::span<const float>(row, static_cast<size_t>(V)), 1.0f);
    out.loss = -std::log(std::max(static_cast<double>(out.probs[static_cast<size_t>(target)]), 1e-45));
    return out;
}

// Row j of c_attn.weight [(H + 2·H_kv)·hd, C] makes feature j of a token's qkv row, so the op's own
// layout (AttentionLayout, one token: b = t = 0) says which rows are each head's q, k and v:
// ‖gradient‖ of each head's block, so the page can say which head the example pulls on.
json head_norms(const float* grad, int64_t H, int64_t H_kv, int64_t hd, int64_t C) {
    const AttentionLayout L{1, 1, H, H_kv, hd, (H + 2 * H_kv) * hd, H / H_kv};
    auto block = [&](int64_t first_row) { return norm(grad + first_row * C, hd * C); };
    json q = json::array(), k = json::array(), v = json::array();
    for (int64_t h = 0; h < H; ++h) q.push_back(block(L.q(0, 0, h)));
    for (int64_t g = 0; g < H_kv; ++g) k.push_back(block(L.k(0, 0, g)));
    for (int64_t g = 0; g < H_kv; ++g) v.push_back(block(L.v(0, 0, g)));
    return {{"q", q}, {"k", k}, {"v", v}};
}

json tape_json(const TapeGraph& graph) {
    json tensors = json::array(), ops = graph.ops, edges = json::array();
    for (const TapeGraph::TensorNode& t : graph.tensors)
        tensors.push_back({{"name", t.name}, {"shape", t.shape}, {"parameter", t.parameter},
                           {"requires_grad", t.requires_grad},
                           {"grad_norm", t.grad_norm >= 0 ? json(t.grad_norm) : json(nullptr)}});
    for (const TapeGraph::Edge& e : graph.edges) edges.push_back({e.from_op ? "op" : "tensor", e.from, e.to});
    return {{"tensors", tensors}, {"ops", ops}, {"edges", edges}};
}

json top_probs(const Tokenizer& tokenizer, const std::vector<float>& probs, int32_t target) {
    json out = json::array();
    for (const Candidate& c : top_candidates(probs, 10)) {
        json token = token_json(tokenizer, c.id);
        token["p"] = c.probability;
        out.push_back(std::move(token));
    }
    json t = token_json(tokenizer, target);
    t["p"] = probs[static_cast<size_t>(target)];
    return {{"top", out}, {"target", t}};
}

// One optimizer step on a scratch copy of `model` with the gradients it holds; returns the copy.
std::unique_ptr<GPT> stepped_copy(const GPT& model, const std::string& optimizer, float lr) {
    auto scratch = std::make_unique<GPT>(model.config());
    scratch->eval();
    const NamedTensors from = model.named_parameters(), to = scratch->named_parameters();
    for (size_t i = 0; i < from.size(); ++i) {
        const Tensor& w = from[i].second;
        std::copy(w.data(), w.data() + w.numel(), to[i].second.data());
        float* g = to[i].second.impl()->autograd_meta().grad_buffer();
        if (w.grad()) std::copy(w.grad(), w.grad() + w.numel(), g);
    }
    if (optimizer == "adamw") {
        AdamWOptions options;
        options.lr = lr;
        options.weight_decay = 0.0f;  // one step of the gradient alone
        AdamW adamw(to, options);
        adamw.step();
    } else {
        for (const auto& [name, w] : to)
            for (int64_t j = 0; j < w.numel(); ++j) w.data()[j] -= lr * w.grad()[j];
    }
    return scratch;
}

// Names for the activations on the tape (the forward's records), so the page can group it by block:
// "embedding", then per block h.<l>.ln_1, .attn.qkv, .attn.heads, .attn_out, .residual_mid, .ln_2,
// .mlp.fc, .mlp.act, .mlp_out, .out.
NamedTensors activation_labels(const ForwardProbe& probe) {
    NamedTensors labels{{"embedding", probe.embedding}};
    for (size_t l = 0; l < probe.activations.size(); ++l) {
        const BlockActivations& a = probe.activations[l];
        const std::string h = "h." + std::to_string(l) + ".";
        for (const auto& [name, t] : {std::pair{"out", &a.out}, {"mlp_out", &a.mlp_out}, {"mlp.act", &a.gelu},
                                      {"mlp.fc", &a.fc}, {"ln_2", &a.mlp_in}, {"residual_mid", &a.residual_mid},
                                      {"attn_out", &a.attn_out}, {"attn.heads", &a.attention.heads},
                                      {"attn.qkv", &a.attention.qkv}, {"attn.latent", &a.attention.latent},
                                      {"ln_1", &a.attn_in}})
            labels.emplace_back(h + name, *t);
    }
    return labels;
}

// Leaves the served model without gradients, however the request ends.
struct ReleaseGrads {
    const GPT& model;
    ~ReleaseGrads() {
        for (const auto& [name, w] : model.named_parameters()) w.release_grad();
    }
};

// What a backprop request asks for, checked.
struct Example {
    std::vector<int32_t> ids;  // the whole prompt
    int64_t position = 0;      // the prediction scored: the token after ids[0..position]
    int32_t target = 0;
    std::string optimizer;  // "sgd" | "adamw"
    double lr = 1e-3;  // the page's default for SGD: a step that moves p(target), not one that memorises it
    bool step = false;
};

Example read_example(const LoadedCheckpoint& checkpoint, const json& request) {
    Example e;
    e.ids = prompt_ids(checkpoint, request);
    const auto n = static_cast<int64_t>(e.ids.size());
    // Default: predict the prompt's last token from the ones before it.
    e.position = integer_field(request, "position", std::max<int64_t>(n - 2, 0), 0, n - 1);
    const int64_t fallback = e.position + 1 < n ? e.ids[static_cast<size_t>(e.position + 1)] : -1;
    const int64_t target = integer_field(request, "target", fallback, 0, checkpoint.model_config.tokens() - 1);
    if (target < 0) throw BadRequest("target is required when position is the prompt's last token");
    e.target = static_cast<int32_t>(target);
    e.optimizer = request.value("optimizer", std::string("sgd"));
    if (e.optimizer != "sgd" && e.optimizer != "adamw") throw BadRequest("optimizer must be \"sgd\" or \"adamw\"");
    e.lr = number_field(request, "lr", 1e-3);
    if (e.lr <= 0 || e.lr > 10) throw BadRequest("lr must be in (0, 10], got " + std::to_string(e.lr));
    e.step = request.value("step", false);
    return e;
}

// ‖∇‖ and ‖w‖ of every parameter tensor after backward; c_attn weights also per head.
json parameter_gradients(const GPT& model) {
    const GPTConfig& c = model.config();
    json parameters = json::array();
    for (const auto& [name, w] : model.named_parameters()) {
        json entry = {{"name", name}, {"shape", w.shape()}, {"grad_norm", w.grad() ? norm(w.grad(), w.numel()) : 0.0},
                      {"weight_norm", norm(w.data(), w.numel())}};
        if (w.grad() && name.ends_with(".attn.c_attn.weight"))
            entry["heads"] = head_norms(w.grad(), c.n_head, c.kv_heads(), c.head_dim(), c.n_embd);
        parameters.push_back(std::move(entry));
    }
    return parameters;
}

// The loss, the probabilities and the top tokens after one step on a scratch copy.
json step_result(const GPT& model, const Tokenizer& tokenizer, const Example& e, const std::vector<int32_t>& prefix,
                 const json& before_top, double loss_before) {
    const std::unique_ptr<GPT> scratch = stepped_copy(model, e.optimizer, static_cast<float>(e.lr));
    const Prediction after = predict(*scratch, prefix, e.target);
    json after_json = top_probs(tokenizer, after.probs, e.target);
    after_json["loss"] = after.loss;
    json same = json::array();  // the tokens of "before", so that the bars compare one to one
    for (const json& token : before_top) {
        json t = token;
        t["p"] = after.probs[token["id"].get<size_t>()];
        same.push_back(std::move(t));
    }
    after_json["before_tokens"] = same;
    return {{"optimizer", e.optimizer}, {"lr", e.lr}, {"loss_before", loss_before}, {"after", after_json}};
}

}  // namespace

json backprop_view(const LoadedCheckpoint& checkpoint, const json& request) {
    const GPT& model = *checkpoint.model;
    const Tokenizer& tokenizer = *checkpoint.tokenizer;
    const Example e = read_example(checkpoint, request);
    const int64_t T = e.position + 1, C = model.config().n_embd;
    const std::vector<int32_t> prefix(e.ids.begin(), e.ids.begin() + T);
    std::vector<int32_t> targets(static_cast<size_t>(T), -100);  // ignore_index: only the last row is scored
    targets.back() = e.target;

    ReleaseGrads release{model};
    for (const auto& [name, w] : model.named_parameters()) w.release_grad();
    ForwardProbe inference;
    inference.record_activations = true;
    Tensor loss = GPT::loss(model.logits_from_hidden(model.hidden(prefix, 1, T, &inference)), targets);
    inference.embedding.impl()->autograd_meta().retain_grad = true;
    retain_tape_grads(loss);
    loss.backward();

    json input = json::array();
    const float* embedding_grad = inference.embedding.grad();
    for (int64_t i = 0; i < T; ++i) input.push_back(embedding_grad ? norm(embedding_grad + i * C, C) : 0.0);
    json tokens = json::array();
    for (const int32_t id : e.ids) tokens.push_back(token_json(tokenizer, id));
    const Prediction before = predict(model, prefix, e.target);
    json out = {{"tokens", tokens},
                {"position", e.position},
                {"target", token_json(tokenizer, e.target)},
                {"loss", loss.item()},
                {"parameters", parameter_gradients(model)},
                {"input_grad_norms", input},
                {"tape", tape_json(tape_graph(loss, model.named_parameters(), activation_labels(inference)))},
                {"before", top_probs(tokenizer, before.probs, e.target)}};
    if (e.step) out["step"] = step_result(model, tokenizer, e, prefix, out["before"]["top"], before.loss);
    return out;
}

}  // namespace gpt
