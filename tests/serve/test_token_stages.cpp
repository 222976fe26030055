// gpt serve's stage views for one token (serve/token_stages.h, forward_view's "stages"): each number is
// where the view says it is (the right token, layer, head and kv head) and the stages agree with each
// other as the transformer's equations say: softmax(scores) = the op's probabilities (a row sums to 1),
// the head's output = Σ_j p_j v_j, the residual sums, the logits = ln_f · wteᵀ.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "autograd/ops.h"
#include "data/char_tokenizer.h"
#include "nn/init.h"
#include "serve/api.h"
#include "train/checkpoint.h"

using namespace gpt;
using nlohmann::json;

namespace {

LoadedCheckpoint checkpoint_of(const GPTConfig& shape, const std::string& text) {
    const auto tokenizer = CharTokenizer::train(text);
    TrainConfig config;
    config.model = shape;
    config.model.vocab_size = tokenizer->vocab_size();
    GPT model(config.model);
    Generator init(5);
    init_gpt2(model, init);
    const std::string path = (std::filesystem::temp_directory_path() /
                              ("gpt_test_stages_" + std::to_string(getpid()) + ".h5")).string();
    save_weights(path, model, *tokenizer, config);
    LoadedCheckpoint checkpoint = load_checkpoint(path);
    std::filesystem::remove(path);
    return checkpoint;
}

GPTConfig small(int64_t n_head, int64_t n_kv_head) {
    GPTConfig c;
    c.block_size = 24;
    c.n_layer = 2;
    c.n_head = n_head;
    c.n_kv_head = n_kv_head;
    c.n_embd = 16;
    return c;
}

// The values 4 significant digits keep: 5e-4 relative, and an absolute floor for values near 0.
void check_row(const json& shown, const float* direct, int64_t n, const char* what) {
    REQUIRE(shown.size() == static_cast<size_t>(n));
    for (int64_t e = 0; e < n; ++e)
        CHECK_MESSAGE(shown[static_cast<size_t>(e)].get<double>() == doctest::Approx(direct[e]).epsilon(5e-4).scale(1e-3),
                      what << " [" << e << "]");
}

// The consistency every attention kind must show, for every head of the view's layer.
void check_attention_equations(const json& layer) {
    const json& detail = layer["head_detail"];
    for (const json& head : layer["heads"]) {
        const size_t n = head["scores"].size();
        REQUIRE(head["probs"].size() == n);
        double top = -1e30, z = 0.0, sum = 0.0;
        for (const json& s : head["scores"]) top = std::max(top, s.get<double>());
        for (const json& s : head["scores"]) z += std::exp(s.get<double>() - top);
        for (size_t j = 0; j < n; ++j) {
            CHECK(head["probs"][j].get<double>() == doctest::Approx(std::exp(head["scores"][j].get<double>() - top) / z).epsilon(2e-3));
            sum += head["probs"][j].get<double>();
        }
        CHECK(sum == doctest::Approx(1.0).epsilon(1e-3));
        if (head["kv_head"] != layer["heads"][layer["head"].get<size_t>()]["kv_head"]) continue;
        // The head's output is the probabilities' weighted sum of the values it read.
        REQUIRE(detail["values"].size() == n);
        double largest = 1e-6;  // each value keeps 4 digits: the sum's error is relative to the largest
        for (const json& v : detail["values"])
            for (const json& e : v) largest = std::max(largest, std::abs(e.get<double>()));
        for (size_t e = 0; e < head["output"].size(); ++e) {
            double weighted = 0.0;
            for (size_t j = 0; j < n; ++j) weighted += head["probs"][j].get<double>() * detail["values"][j][e].get<double>();
            CHECK(head["output"][e].get<double>() == doctest::Approx(weighted).epsilon(2e-3).scale(largest));
        }
    }
}

}  // namespace

TEST_CASE("stage views: the chosen token's q, k, v, scores, softmax and weighted sum, from the forward's own tensors") {
    const std::string text = "the quick brown fox jumps over the lazy dog\n";
    const LoadedCheckpoint checkpoint = checkpoint_of(small(4, 2), text);  // grouped-query: heads 0,1 read kv head 0
    const GPT& model = *checkpoint.model;
    const std::string prompt = "the quick brown";
    const int64_t position = 7, layer = 1, head = 3;
    const json view = forward_view(checkpoint, {{"prompt", prompt}, {"position", position}, {"stage_layer", layer}, {"stage_head", head}});
    REQUIRE(view["stages"].is_object());
    const json& s = view["stages"];
    CHECK(view["position"] == position);
    CHECK(s["layer"]["index"] == layer);

    // The direct computation through the model's modules, one layer at a time.
    NoGradGuard no_grad;
    const std::vector<int32_t> ids = checkpoint.tokenizer->encode(prompt);
    const auto T = static_cast<int64_t>(ids.size());
    Generator unused(0);
    const int64_t C = 16, hd = 4, i = position;
    const Tensor x0 = model.embed(ids, 1, T, unused);
    check_row(s["embedding"]["sum"], x0.data() + i * C, C, "embedding sum");
    check_row(s["embedding"]["token"], model.wte->weight.data() + ids[static_cast<size_t>(i)] * C, C, "wte row");
    const Tensor x1 = model.h[0]->forward(x0, unused);
    check_row(s["layer"]["input"], x1.data() + i * C, C, "block 1 input");
    const auto& attention = static_cast<const CausalSelfAttention&>(*model.h[1]->attn);
    const Tensor a = model.h[1]->ln_1->forward(x1);
    check_row(s["layer"]["ln_1"], a.data() + i * C, C, "ln_1");
    const Tensor qkv = attention.c_attn->forward(a);  // [1, T, (4 + 2·2)·4]: q heads 0..3, k heads 0..1, v heads 0..1
    const int64_t row = 8 * hd;
    const json& h3 = s["layer"]["heads"][static_cast<size_t>(head)];
    CHECK(h3["kv_head"] == 1);
    check_row(h3["q"], qkv.data() + i * row + head * hd, hd, "q of head 3");
    check_row(h3["k"], qkv.data() + i * row + (4 + 1) * hd, hd, "k of kv head 1");
    check_row(h3["v"], qkv.data() + i * row + (6 + 1) * hd, hd, "v of kv head 1");
    REQUIRE(h3["scores"].size() == static_cast<size_t>(i + 1));
    for (int64_t j = 0; j <= i; ++j) {  // q_i·k_j/√hd
        double dot = 0.0;
        for (int64_t e = 0; e < hd; ++e) dot += qkv.data()[i * row + head * hd + e] * qkv.data()[j * row + 5 * hd + e];
        CHECK(h3["scores"][static_cast<size_t>(j)].get<double>() == doctest::Approx(dot / 2.0).epsilon(5e-4).scale(1e-3));
        check_row(s["layer"]["head_detail"]["keys"][static_cast<size_t>(j)], qkv.data() + j * row + 5 * hd, hd, "key j");
    }
    check_attention_equations(s["layer"]);

    // The rest of the block: residual sums, and the block's output is the next stage's input.
    const Tensor x2 = model.h[1]->forward(x1, unused);
    check_row(s["layer"]["out"], x2.data() + i * C, C, "block output");
    for (int64_t c = 0; c < C; ++c) {
        const auto k = static_cast<size_t>(c);
        CHECK(s["layer"]["residual_mid"][k].get<double>() ==
              doctest::Approx(s["layer"]["input"][k].get<double>() + s["layer"]["attn_out"][k].get<double>()).epsilon(2e-3).scale(1e-3));
        CHECK(s["layer"]["out"][k].get<double>() ==
              doctest::Approx(s["layer"]["residual_mid"][k].get<double>() + s["layer"]["mlp_out"][k].get<double>()).epsilon(2e-3).scale(1e-3));
    }
    CHECK(s["layer"]["fc"].size() == 64);
    CHECK(s["layer"]["activation"].size() == 64);

    // ln_f · wteᵀ is the logit of each candidate; the bars are the prediction after token `position`.
    const json& top = view["sampling"]["candidates"][0];
    double logit = 0.0;
    for (int64_t c = 0; c < C; ++c)
        logit += s["ln_f"][static_cast<size_t>(c)].get<double>() * model.wte->weight.data()[top["id"].get<int64_t>() * C + c];
    CHECK(top["logit"].get<double>() == doctest::Approx(logit).epsilon(2e-3).scale(1e-2));
    CHECK(top["logit_over_t"].get<double>() == doctest::Approx(top["logit"].get<double>() / 0.8).epsilon(1e-3));
    const json prefix = forward_view(checkpoint, {{"prompt", prompt.substr(0, static_cast<size_t>(i + 1))}});
    CHECK(prefix["sampling"]["candidates"] == view["sampling"]["candidates"]);

    CHECK_THROWS_AS(forward_view(checkpoint, {{"prompt", prompt}, {"position", T}}), BadRequest);
    CHECK_THROWS_AS(forward_view(checkpoint, {{"prompt", prompt}, {"stage_head", 4}}), BadRequest);
    CHECK(forward_view(checkpoint, {{"prompt", prompt}, {"include", {"attention"}}})["stages"].is_null());
}

TEST_CASE("stage views: rotary positions, multi-query and latent attention show the same equations") {
    const std::string text = "a stitch in time saves nine\n";
    GPTConfig rope = small(4, 1);
    rope.pos_encoding = "rope";
    rope.norm = "rmsnorm";
    rope.mlp = "swiglu";
    GPTConfig mla = small(2, 0);
    mla.attention = "mla";
    mla.kv_latent_dim = 8;
    mla.pos_encoding = "rope";
    for (const GPTConfig& shape : {rope, mla}) {
        CAPTURE(shape.attention);
        const LoadedCheckpoint checkpoint = checkpoint_of(shape, text);
        for (int64_t position : {0, 5}) {
            const json view = forward_view(checkpoint, {{"prompt", "a stitch"}, {"position", position}, {"stage_layer", 1}, {"stage_head", 1}});
            const json& layer = view["stages"]["layer"];
            CHECK(view["stages"]["embedding"]["position"].is_null());  // rotary: no position row
            CHECK(layer["heads"].size() == static_cast<size_t>(shape.n_head));
            CHECK(layer["heads"][0]["scores"].size() == static_cast<size_t>(position + 1));
            check_attention_equations(layer);
            CHECK(layer["latent"].is_null() == !shape.mla());
        }
    }
}
