// Issue 31's model options in the modules: parameter names and shapes (the HDF5 names), the parameter
// count without building, initial values, the errors naming the field, and the cached forward (QK-norm
// normalises keys before they are cached) against the full forward.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "nn/gpt.h"
#include "nn/init.h"
#include "nn/kv_cache.h"

using namespace gpt;

namespace {

GPTConfig modern(const char* norm, const char* mlp, bool qk_norm, bool tie) {
    GPTConfig c;
    c.vocab_size = 37;
    c.block_size = 32;
    c.n_layer = 2;
    c.n_head = 4;
    c.n_kv_head = 2;
    c.n_embd = 32;
    c.norm = norm;
    c.mlp = mlp;
    c.qk_norm = qk_norm;
    c.tie_embeddings = tie;
    return c;
}

std::map<std::string, Shape> shapes_of(const GPT& model) {
    std::map<std::string, Shape> shapes;
    for (auto& [name, t] : model.named_parameters()) shapes[name] = t.shape();
    return shapes;
}

}  // namespace

TEST_CASE("rmsnorm, swiglu, qk_norm and an untied head: names, shapes, count, init") {
    GPTConfig c = modern("rmsnorm", "swiglu", true, false);
    GPT model(c);
    Generator generator(1);
    init_gpt2(model, generator);
    const auto shapes = shapes_of(model);
    const int64_t C = 32, hd = 8, D = 128;  // 8/3·32 = 85.3, rounded up to a multiple of 64
    CHECK(c.mlp_hidden_dim() == D);
    CHECK(shapes.at("h.0.ln_1.weight") == Shape{C});
    CHECK(shapes.count("h.0.ln_1.bias") == 0);  // RMSNorm has no bias, even with bias = true
    CHECK(shapes.count("ln_f.bias") == 0);
    CHECK(shapes.at("h.1.mlp.c_fc.weight") == Shape{2 * D, C});
    CHECK(shapes.at("h.1.mlp.c_fc.bias") == Shape{2 * D});
    CHECK(shapes.at("h.1.mlp.c_proj.weight") == Shape{C, D});
    CHECK(shapes.at("h.0.attn.q_norm.weight") == Shape{hd});
    CHECK(shapes.at("h.0.attn.k_norm.weight") == Shape{hd});
    CHECK(shapes.at("lm_head.weight") == Shape{37, C});
    CHECK(model.named_parameters().back().first == "lm_head.weight");
    int64_t total = 0;
    for (auto& [name, t] : model.named_parameters()) {
        total += t.numel();
        if (name.find("_norm.") != std::string::npos || name.find("ln_") != std::string::npos)
            CHECK(std::all_of(t.data(), t.data() + t.numel(), [](float v) { return v == 1.0f; }));
    }
    CHECK(total == count_parameters(c));
    // The default widths: 4C for gelu and relu2; 8/3·C rounded up to 64 for swiglu (C 128 → 384), or as given.
    GPTConfig w = modern("layernorm", "relu2", false, true);
    CHECK(w.mlp_hidden_dim() == 4 * C);
    w.mlp = "swiglu";
    w.n_embd = 128;
    CHECK(w.mlp_hidden_dim() == 384);
    w.mlp_hidden = 100;
    CHECK(w.mlp_hidden_dim() == 100);
    for (const GPTConfig& other : {modern("layernorm", "relu2", true, true), modern("rmsnorm", "gelu", false, true), w}) {
        GPT m(other);
        int64_t n = 0;
        for (auto& [name, t] : m.named_parameters()) n += t.numel();
        CHECK(n == count_parameters(other));
    }
}

TEST_CASE("issue 31's config errors name the field") {
    GPTConfig c = modern("layernorm", "gelu", false, true);
    c.norm = "batchnorm";
    CHECK_THROWS_WITH(GPT{c}, doctest::Contains("norm must be \"layernorm\" or \"rmsnorm\", got \"batchnorm\""));
    c = modern("layernorm", "gelu", false, true);
    c.mlp = "relu3";
    CHECK_THROWS_WITH(GPT{c}, doctest::Contains("mlp must be \"gelu\", \"relu2\" or \"swiglu\", got \"relu3\""));
    c = modern("layernorm", "gelu", false, true);
    c.mlp_hidden = -1;
    CHECK_THROWS_WITH(GPT{c}, doctest::Contains("mlp_hidden must be positive"));
    c = modern("layernorm", "gelu", true, true);
    c.n_kv_head = 0;
    c.attention = "mla";
    c.kv_latent_dim = 8;
    CHECK_THROWS_WITH(GPT{c}, doctest::Contains("qk_norm is for attention = \"mha\""));
}

TEST_CASE("with qk_norm and rope, cached generation equals the full forward at every step") {
    for (const char* mlp : {"relu2", "swiglu"}) {
        GPTConfig c = modern("rmsnorm", mlp, true, false);
        c.pos_encoding = "rope";
        GPT model(c);
        Generator generator(21);
        init_gpt2(model, generator);
        for (auto& [name, t] : model.named_parameters())  // far from uniform attention
            for (int64_t i = 0; i < t.numel(); ++i)
                t.data()[i] = name.find("norm") != std::string::npos || name.find("ln_") != std::string::npos
                                  ? 1.0f + 0.5f * static_cast<float>(generator.normal())
                                  : t.data()[i] * 15.0f;
        model.eval();
        Generator draws(9);
        std::vector<int32_t> ids;
        for (int i = 0; i < 6; ++i) ids.push_back(static_cast<int32_t>(draws.below(37)));
        auto full_last = [&](const std::vector<int32_t>& seq) {
            NoGradGuard no_grad;
            const int64_t T = static_cast<int64_t>(seq.size());
            const Tensor logits = model.forward(seq, 1, T);
            return std::vector<float>(logits.data() + (T - 1) * 37, logits.data() + T * 37);
        };
        auto rel = [](const std::vector<float>& a, const std::vector<float>& b) {
            double diff = 0.0, scale = 0.0;
            for (size_t i = 0; i < a.size(); ++i) {
                diff = std::max(diff, std::fabs(double(a[i]) - b[i]));
                scale = std::max(scale, std::fabs(double(b[i])));
            }
            return diff / scale;
        };
        KVCache cache(c);
        Tensor logits = forward_tokens(model, cache, ids);
        double worst = rel(logits.to_vector(), full_last(ids));
        for (int step = 0; step < 12; ++step) {
            ids.push_back(static_cast<int32_t>(draws.below(37)));
            logits = forward_step(model, cache, ids.back());
            worst = std::max(worst, rel(logits.to_vector(), full_last(ids)));
        }
        CAPTURE(mlp);
        CHECK(worst <= 1e-5);
    }
}
