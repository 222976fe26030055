#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <map>
#include <stdexcept>

#include "nn/gpt.h"
#include "nn/init.h"

using namespace gpt;

static GPTConfig tiny_config() {
    GPTConfig c;
    c.vocab_size = 11;
    c.block_size = 8;
    c.n_layer = 2;
    c.n_head = 4;
    c.n_kv_head = 2;
    c.n_embd = 16;
    return c;
}

TEST_CASE("GPT registers its parameters under GPT-2's dotted names and shapes") {
    GPT model(tiny_config());
    std::map<std::string, Shape> shapes;
    for (auto& [name, t] : model.named_parameters()) shapes[name] = t.shape();
    const int64_t C = 16, hd = 4;
    CHECK(shapes.at("wte.weight") == Shape{11, C});
    CHECK(shapes.at("wpe.weight") == Shape{8, C});
    CHECK(shapes.at("h.0.attn.c_attn.weight") == Shape{(4 + 2 * 2) * hd, C});
    CHECK(shapes.at("h.1.attn.c_proj.weight") == Shape{C, C});
    CHECK(shapes.at("h.1.mlp.c_fc.weight") == Shape{4 * C, C});
    CHECK(shapes.at("h.1.mlp.c_proj.bias") == Shape{C});
    CHECK(shapes.at("ln_f.bias") == Shape{C});
    CHECK(shapes.size() == 2 + 2 * 12 + 2);
    CHECK(model.named_parameters().front().first == "wte.weight");
}

TEST_CASE("sinusoidal positions and bias=false register no extra parameters") {
    GPTConfig c = tiny_config();
    c.pos_encoding = "sinusoidal";
    c.bias = false;
    GPT model(c);
    for (auto& [name, t] : model.named_parameters()) {
        CHECK(name.find("wpe") == std::string::npos);
        CHECK(name.find(".bias") == std::string::npos);
    }
}

TEST_CASE("config validation names the field") {
    GPTConfig c = tiny_config();
    c.n_embd = 18;
    CHECK_THROWS_WITH(GPT{c}, doctest::Contains("n_embd (18) must be divisible by n_head (4)"));
    c = tiny_config();
    c.n_kv_head = 3;
    CHECK_THROWS_WITH(GPT{c}, doctest::Contains("n_kv_head (3)"));
    c = tiny_config();
    c.block_size = 0;
    CHECK_THROWS_WITH(GPT{c}, doctest::Contains("block_size must be positive"));
    c = tiny_config();
    c.pos_encoding = "rotary";
    CHECK_THROWS_WITH(GPT{c}, doctest::Contains("pos_encoding"));
}

TEST_CASE("GPT-2 initialisation statistics") {
    GPTConfig c = tiny_config();
    c.n_embd = 64;
    c.n_head = 4;
    c.n_kv_head = 4;
    c.vocab_size = 500;
    GPT model(c);
    Generator generator(7);
    init_gpt2(model, generator);
    auto stddev = [](const Tensor& t) {
        double s = 0, s2 = 0;
        for (int64_t i = 0; i < t.numel(); ++i) { s += t.data()[i]; s2 += double(t.data()[i]) * t.data()[i]; }
        const double m = s / t.numel();
        return std::sqrt(s2 / t.numel() - m * m);
    };
    for (auto& [name, t] : model.named_parameters()) {
        if (name == "wte.weight") CHECK(stddev(t) == doctest::Approx(0.02).epsilon(0.05));
        if (name == "h.0.mlp.c_proj.weight") CHECK(stddev(t) == doctest::Approx(0.02 / std::sqrt(4.0)).epsilon(0.05));
        if (name == "h.0.ln_1.weight") CHECK(t.data()[3] == 1.0f);
        if (name == "h.0.attn.c_attn.bias") CHECK(t.data()[0] == 0.0f);
    }
}

TEST_CASE("forward shapes, loss near log(V) at init, and gradients reach every parameter") {
    GPT model(tiny_config());
    Generator generator(1);
    init_gpt2(model, generator);
    const int64_t B = 2, T = 8;
    std::vector<int32_t> ids(B * T), targets(B * T);
    for (int64_t i = 0; i < B * T; ++i) { ids[i] = int32_t(i % 11); targets[i] = int32_t((i * 7 + 3) % 11); }
    Tensor logits = model.forward(ids, B, T, generator);
    CHECK(logits.shape() == Shape{B, T, 11});
    Tensor loss = GPT::loss(logits, targets);
    CHECK(loss.item() == doctest::Approx(std::log(11.0)).epsilon(0.05));
    loss.backward();
    for (auto& [name, t] : model.named_parameters()) {
        INFO(name);
        REQUIRE(t.grad() != nullptr);
        double norm = 0;
        for (int64_t i = 0; i < t.numel(); ++i) norm += double(t.grad()[i]) * t.grad()[i];
        CHECK(norm > 0.0);
    }
    CHECK_THROWS_WITH(model.forward(std::vector<int32_t>(9 * 2, 0), 2, 9, generator), doctest::Contains("block_size"));
}

TEST_CASE("duplicate or dotted names are rejected") {
    struct Bad : Module {
        Bad() {
            register_parameter("w", Tensor::zeros({1}));
            CHECK_THROWS_WITH(register_parameter("w", Tensor::zeros({1})), doctest::Contains("already registered"));
            CHECK_THROWS_WITH(register_parameter("a.b", Tensor::zeros({1})), doctest::Contains("no '.'"));
        }
    };
    Bad bad;
    CHECK(bad.parameter_count() == 1);
}

// The GPT written out with separate ops, as Block::forward computed it before each residual add was fused
// with the norm that reads it: add, then norm (ln_1 / ln_2 / ln_f).
static Tensor unfused_logits(const GPT& model, const std::vector<int32_t>& ids, int64_t B, int64_t T, Generator& g) {
    Tensor x = model.embed(ids, B, T, g);
    for (const auto& block : model.h) {
        const Tensor h = add(x, block->attn->forward(block->ln_1->forward(x), g));
        x = add(h, block->mlp->forward(block->ln_2->forward(h), g));
    }
    return model.logits_from_hidden(x);
}

TEST_CASE("the fused residual add + norm gives the bits of add then norm: logits and every gradient") {
    for (const char* norm : {"layernorm", "rmsnorm"})
        for (bool bias : {true, false}) {
            CAPTURE(norm);
            CAPTURE(bias);
            GPTConfig config = tiny_config();
            config.norm = norm;
            config.bias = bias;
            config.n_layer = 3;
            config.dropout = 0.1f;  // the dropout draws must line up too
            GPT model(config);
            Generator init(5);
            init_gpt2(model, init);
            model.train();
            const int64_t B = 2, T = 8;
            std::vector<int32_t> ids(B * T), targets(B * T);
            for (int64_t i = 0; i < B * T; ++i) {
                ids[i] = int32_t((i * 5 + 1) % 11);
                targets[i] = int32_t((i * 7 + 3) % 11);
            }
            auto run = [&](bool fused) {
                for (auto& [name, t] : model.named_parameters()) t.release_grad();
                Generator g(9);
                const Tensor logits = fused ? model.forward(ids, B, T, g) : unfused_logits(model, ids, B, T, g);
                GPT::loss(logits, targets).backward();
                std::vector<float> all = logits.to_vector();
                for (auto& [name, t] : model.named_parameters()) {
                    const std::vector<float> grad = t.grad_tensor().to_vector();
                    all.insert(all.end(), grad.begin(), grad.end());
                }
                return all;
            };
            const std::vector<float> fused = run(true), unfused = run(false);
            REQUIRE(fused.size() == unfused.size());
            CHECK(std::memcmp(fused.data(), unfused.data(), fused.size() * sizeof(float)) == 0);
        }
}

TEST_CASE("EvalModeGuard: eval mode inside the scope, the previous mode after it, also after an exception") {
    Linear layer(2, 2);
    CHECK(layer.is_training());
    {
        EvalModeGuard eval_mode(layer);
        CHECK_FALSE(layer.is_training());
    }
    CHECK(layer.is_training());
    try {
        EvalModeGuard eval_mode(layer);
        throw std::runtime_error("an evaluation that fails");
    } catch (const std::runtime_error&) {
    }
    CHECK(layer.is_training());
    layer.eval();
    {
        EvalModeGuard eval_mode(layer);
    }
    CHECK_FALSE(layer.is_training());  // a module already in eval mode stays so
}
