// Rotary positions and multi-head latent attention in the model: the cache (rope positions continuing
// from its length; MLA's absorbed form over latent rows) gives the explicit full forward's logits at
// every step, the cache holds what the formulas say, the parameter names, and the attention maps.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "nn/init.h"
#include "nn/kv_cache.h"

using namespace gpt;

namespace {

struct Variant {
    std::string pos, attention;
    int64_t n_kv_head, kv_latent, q_latent;
};

GPTConfig config_of(const Variant& v, int64_t block_size = 32) {
    GPTConfig c;
    c.vocab_size = 37;
    c.block_size = block_size;
    c.n_layer = 2;
    c.n_head = 4;
    c.n_kv_head = v.n_kv_head;
    c.n_embd = 32;
    c.pos_encoding = v.pos;
    c.attention = v.attention;
    c.kv_latent_dim = v.kv_latent;
    c.q_latent_dim = v.q_latent;
    return c;
}

// GPT-2 init with every non-LayerNorm weight scaled up, so attention is far from uniform (a wrong row
// or position would move the logits).
std::unique_ptr<GPT> random_model(const GPTConfig& config, uint64_t seed) {
    auto model = std::make_unique<GPT>(config);
    Generator generator(seed);
    init_gpt2(*model, generator);
    for (auto& [name, tensor] : model->named_parameters()) {
        if (name.find("ln_") != std::string::npos) continue;
        for (int64_t i = 0; i < tensor.numel(); ++i) tensor.data()[i] *= 15.0f;
    }
    model->eval();
    return model;
}

std::vector<float> full_forward_last(const GPT& model, const std::vector<int32_t>& ids) {
    NoGradGuard no_grad;
    Generator unused(0);
    const int64_t T = static_cast<int64_t>(ids.size()), V = model.config().vocab_size;
    const Tensor logits = model.forward(ids, 1, T, unused);
    return std::vector<float>(logits.data() + (T - 1) * V, logits.data() + T * V);
}

double relative_error(const std::vector<float>& a, const std::vector<float>& b) {
    double diff = 0.0, scale = 0.0;
    for (size_t i = 0; i < a.size(); ++i) {
        diff = std::max(diff, std::fabs(static_cast<double>(a[i]) - b[i]));
        scale = std::max(scale, std::fabs(static_cast<double>(b[i])));
    }
    return diff / scale;
}

const std::vector<Variant> kVariants = {
    {"rope", "mha", 4, 0, 0}, {"rope", "mha", 2, 0, 0}, {"rope", "mha", 1, 0, 0},   {"learned", "mla", 0, 12, 0},
    {"learned", "mla", 0, 12, 20}, {"rope", "mla", 0, 12, 0}, {"rope", "mla", 0, 12, 20},
};

}  // namespace

TEST_CASE("cached generation (rope; MLA's absorbed form) equals the explicit full forward at every step") {
    for (const Variant& v : kVariants) {
        CAPTURE(v.pos);
        CAPTURE(v.attention);
        CAPTURE(v.n_kv_head);
        CAPTURE(v.q_latent);
        const GPTConfig config = config_of(v);
        const auto model = random_model(config, 21);
        Generator draws(9);
        std::vector<int32_t> ids;
        for (int i = 0; i < 6; ++i) ids.push_back(static_cast<int32_t>(draws.below(37)));
        KVCache cache(config);
        Tensor logits = forward_tokens(*model, cache, ids);  // a 6-token prompt: T > 1 against the cache
        double worst = relative_error(logits.to_vector(), full_forward_last(*model, ids));
        for (int step = 0; step < 20; ++step) {
            ids.push_back(static_cast<int32_t>(draws.below(37)));
            logits = forward_step(*model, cache, ids.back());
            worst = std::max(worst, relative_error(logits.to_vector(), full_forward_last(*model, ids)));
        }
        CHECK(worst <= 1e-5);
    }
}

TEST_CASE("the MLA cache holds n_layer·(d_c + d_R) floats per token, and each row matters") {
    const GPTConfig config = config_of({"rope", "mla", 0, 12, 20});  // d_R = head_dim / 2 = 4
    KVCache cache(config);
    CHECK(cache.latent());
    CHECK(cache.key_row() == 12 + 4);
    CHECK(cache.bytes_per_token() == 2 * (12 + 4) * 4);
    CHECK(cache.keys(1, 3) == cache.values(1, 3));
    const GPTConfig gqa = config_of({"rope", "mha", 2, 0, 0});
    CHECK(KVCache(gqa).bytes_per_token() == 2 * 2 * 2 * 8 * 4);

    const auto model = random_model(config, 4);
    const std::vector<int32_t> ids{3, 1, 4, 1, 5, 9, 2, 6};
    forward_tokens(*model, cache, std::vector<int32_t>(ids.begin(), ids.end() - 1));
    for (const int64_t column : {int64_t{0}, int64_t{13}}) {  // the latent c_KV, then the rotary key k_R
        KVCache stale(config);
        forward_tokens(*model, stale, std::vector<int32_t>(ids.begin(), ids.end() - 1));
        stale.keys(0, 2)[column] += 1.0f;
        const Tensor logits = forward_step(*model, stale, ids.back());
        CHECK(relative_error(logits.to_vector(), full_forward_last(*model, ids)) > 1e-4);
    }
}

TEST_CASE("rope registers no wpe; MLA's parameter names and shapes") {
    GPT rope(config_of({"rope", "mha", 2, 0, 0}));
    for (const auto& [name, t] : rope.named_parameters()) CHECK(name.find("wpe") == std::string::npos);
    GPT mla(config_of({"rope", "mla", 0, 12, 20}));
    const auto params = mla.named_parameters();
    auto shape = [&](const std::string& name) {
        for (const auto& [n, t] : params)
            if (n == name) return t.shape();
        FAIL("no parameter " << name);
        return Shape{};
    };
    CHECK(shape("h.0.attn.c_q_down.weight") == Shape{20, 32});
    CHECK(shape("h.0.attn.c_q_up.weight") == Shape{32, 20});
    CHECK(shape("h.0.attn.c_kv_down.weight") == Shape{12, 32});
    CHECK(shape("h.0.attn.c_k_up.weight") == Shape{32, 12});
    CHECK(shape("h.0.attn.c_v_up.weight") == Shape{32, 12});
    CHECK(shape("h.1.attn.c_q_rope.weight") == Shape{4 * 4, 20});
    CHECK(shape("h.1.attn.c_k_rope.weight") == Shape{4, 32});
    CHECK(shape("h.1.attn.c_proj.weight") == Shape{32, 32});
    for (const auto& [name, t] : params) CHECK(name.find("c_k_up.bias") == std::string::npos);
}

TEST_CASE("attention maps of MLA come from the same op: [1, H, T, T] rows that sum to 1") {
    const GPTConfig config = config_of({"rope", "mla", 0, 12, 0});
    const auto model = random_model(config, 8);
    NoGradGuard no_grad;
    Generator unused(0);
    ForwardProbe inference;
    inference.record_attention = true;
    model->forward({1, 2, 3, 4, 5}, 1, 5, unused, &inference);
    REQUIRE(inference.attention.size() == 2);
    const Tensor& p = inference.attention[0];
    CHECK(p.shape() == Shape{1, 4, 5, 5});
    for (int64_t row = 0; row < 4 * 5; ++row) {
        double sum = 0.0;
        for (int64_t j = 0; j < 5; ++j) sum += p.data()[row * 5 + j];
        CHECK(sum == doctest::Approx(1.0));
        for (int64_t j = row % 5 + 1; j < 5; ++j) CHECK(p.data()[row * 5 + j] == 0.0f);  // causal
    }
}

TEST_CASE("config errors name the field") {
    GPTConfig c = config_of({"learned", "mla", 0, 0, 0});
    CHECK_THROWS_WITH(c.validate(), doctest::Contains("kv_latent_dim"));
    c = config_of({"learned", "mla", 2, 12, 0});
    CHECK_THROWS_WITH(c.validate(), doctest::Contains("n_kv_head"));
    c = config_of({"learned", "mha", 0, 12, 0});
    CHECK_THROWS_WITH(c.validate(), doctest::Contains("for attention = \"mla\" only"));
    c = config_of({"learned", "gqa", 0, 0, 0});
    CHECK_THROWS_WITH(c.validate(), doctest::Contains("attention must be"));
    c = config_of({"learned", "mla", 0, 12, 0});
    c.rope_head_dim = 4;
    CHECK_THROWS_WITH(c.validate(), doctest::Contains("rope_head_dim needs pos_encoding"));
    c.pos_encoding = "rope";
    c.rope_head_dim = 3;
    CHECK_THROWS_WITH(c.validate(), doctest::Contains("must be even"));
}
