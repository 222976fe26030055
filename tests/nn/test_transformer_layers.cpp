// The encoder and decoder layers (nn/transformer_layers.h) against PyTorch 1.13's own
// nn.TransformerEncoderLayer and nn.TransformerDecoderLayer (tests/nn/reference_transformer_layers.py) on
// the same weights and inputs: outputs, the inputs' gradients and every parameter's gradient, for
// post-norm and pre-norm, ReLU and GELU, with key padding; plus names, errors and the decoder's
// cached step-by-step forward.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "nn/transformer_layers.h"
#include "tests/reference_python.h"
#include "tests/reference_text.h"

using namespace gpt;

namespace {

TransformerLayerOptions small_options(bool norm_first, const std::string& activation) {
    TransformerLayerOptions o;
    o.d_model = 16;
    o.n_head = 4;
    o.dim_feedforward = 24;
    o.activation = activation;
    o.norm_first = norm_first;
    return o;
}

Tensor normal_tensor(const Shape& shape, Generator& generator, double sd = 1.0, bool grad = false) {
    Tensor t = Tensor::empty(shape, grad);
    for (int64_t i = 0; i < t.numel(); ++i) t.data()[i] = static_cast<float>(sd * generator.normal());
    return t;
}

// Weights ~ N(0, 0.3²) (about 1/√C), biases ~ N(0, 0.1²), LayerNorm gains 1 + N(0, 0.1²): every parameter
// away from its trivial value, so each one's gradient and PyTorch's handling of it are tested.
void randomise(Module& layer, Generator& generator) {
    for (auto& [name, t] : layer.named_parameters()) {
        const bool norm = name.rfind("ln_", 0) == 0;
        const bool bias = name.size() >= 4 && name.compare(name.size() - 4, 4, "bias") == 0;
        for (int64_t i = 0; i < t.numel(); ++i)
            t.data()[i] = static_cast<float>((norm && !bias ? 1.0 : 0.0) + (norm || bias ? 0.1 : 0.3) * generator.normal());
    }
}

std::vector<float> padding_values(const KeyPadding& padding, int64_t B, int64_t T) {
    std::vector<float> values(static_cast<size_t>(B * T), 0.0f);
    for (int64_t b = 0; b < B; ++b)
        for (int64_t t = 0; t < T; ++t)
            values[static_cast<size_t>(b * T + t)] =
                !padding.lengths.empty() ? float(t >= padding.lengths[static_cast<size_t>(b)])
                : !padding.mask.empty()  ? float(padding.mask[static_cast<size_t>(b * T + t)])
                                         : 0.0f;
    return values;
}

struct Case {
    std::string name;
    std::map<std::string, std::vector<float>> ours;
};

}  // namespace

TEST_CASE("transformer layers match PyTorch's nn.TransformerEncoderLayer / DecoderLayer: outputs and every "
          "gradient, post-norm and pre-norm, ReLU and GELU, with key padding, ≤ 1e-4 relative") {
    const std::string stem = std::string(GPT_BINARY_DIR) + "/transformer_layers_" + std::to_string(getpid());
    const std::string in_path = stem + "_in.txt", out_path = stem + "_out.txt";
    std::ofstream file(in_path);
    Generator generator(29);
    std::vector<Case> cases;
    const int64_t B = 3, T = 7, S = 9, C = 16;
    const KeyPadding target_padding{{7, 4, 6}, {}};
    KeyPadding memory_padding;  // row 0: every third position; row 1: the first two; row 2: none
    memory_padding.mask.assign(B * S, 0);
    for (int64_t s = 0; s < S; ++s) {
        memory_padding.mask[static_cast<size_t>(s)] = s % 3 == 1;
        memory_padding.mask[static_cast<size_t>(S + s)] = s < 2;
    }

    for (bool decoder : {false, true})
        for (bool norm_first : {false, true})
            for (const std::string activation : {"relu", "gelu"}) {
                const std::string name = std::string(decoder ? "decoder" : "encoder") + (norm_first ? "_pre" : "_post") +
                                         "_" + activation;
                const TransformerLayerOptions options = small_options(norm_first, activation);
                std::unique_ptr<Module> layer;
                if (decoder)
                    layer = std::make_unique<TransformerDecoderLayer>(options);
                else
                    layer = std::make_unique<TransformerEncoderLayer>(options);
                randomise(*layer, generator);
                Tensor x = normal_tensor({B, T, C}, generator, 1.0, true);
                Tensor memory = normal_tensor({B, S, C}, generator, 1.0, true);
                const Tensor r = normal_tensor({B, T, C}, generator);
                Generator unused(1);
                Tensor out;
                if (decoder)
                    out = static_cast<TransformerDecoderLayer&>(*layer).forward(
                        x, memory, unused, DecoderAttentionOptions{target_padding, memory_padding});
                else
                    out = static_cast<TransformerEncoderLayer&>(*layer).forward(x, unused, target_padding);
                out.backward(r);

                for (const auto& [field, value] :
                     std::map<std::string, float>{{"decoder", decoder ? 1.0f : 0.0f},
                                                  {"norm_first", norm_first ? 1.0f : 0.0f},
                                                  {"gelu", activation == "gelu" ? 1.0f : 0.0f},
                                                  {"n_head", float(options.n_head)},
                                                  {"dim_feedforward", float(options.dim_feedforward)}})
                    test::write_tensor(file, name + "." + field, {}, {value});
                test::write_tensor(file, name + ".x", x.shape(), x.to_vector());
                test::write_tensor(file, name + ".r", r.shape(), r.to_vector());
                test::write_tensor(file, name + ".padding", {B, T}, padding_values(target_padding, B, T));
                Case c{name, {{"out", out.to_vector()}, {"dx", x.grad_tensor().to_vector()}}};
                if (decoder) {
                    test::write_tensor(file, name + ".memory", memory.shape(), memory.to_vector());
                    test::write_tensor(file, name + ".memory_padding", {B, S}, padding_values(memory_padding, B, S));
                    c.ours["dmemory"] = memory.grad_tensor().to_vector();
                }
                for (const auto& [pname, t] : layer->named_parameters()) {
                    test::write_tensor(file, name + ".param." + pname, t.shape(), t.to_vector());
                    c.ours["grad." + pname] = t.grad_tensor().to_vector();
                }
                cases.push_back(std::move(c));
            }
    file.close();

    const std::string command = std::string(GPT_PYTHON) + " " + GPT_SOURCE_DIR +
                                "/tests/nn/reference_transformer_layers.py " + in_path + " " + out_path;
    const int status = std::system(command.c_str());
    const int rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    std::remove(in_path.c_str());
    if (rc == 3 || rc == 127) {
        test::reference_unavailable(std::string(GPT_PYTHON) + " cannot import torch (reference_transformer_layers.py exit " +
                                    std::to_string(rc) + ")");
        return;
    }
    REQUIRE_MESSAGE(rc == 0, "reference_transformer_layers.py failed with exit status " << rc);
    const auto reference = test::read_tensors(out_path);
    std::remove(out_path.c_str());

    const double tolerance = 1e-4;
    double worst_overall = 0.0;
    for (const Case& c : cases) {
        double worst_out = 0.0, worst_grad = 0.0;
        std::string worst_grad_name;
        for (const auto& [field, ours] : c.ours) {
            const std::string key = c.name + "." + field;
            REQUIRE_MESSAGE(reference.count(key) == 1, "reference output lacks " << key);
            const double error = test::compare(ours, reference.at(key));
            CHECK_MESSAGE(error <= tolerance, key << ": relative error " << error);
            if (field == "out") {
                worst_out = error;
            } else if (error > worst_grad) {
                worst_grad = error;
                worst_grad_name = field;
            }
            worst_overall = std::max(worst_overall, error);
        }
        MESSAGE(c.name << ": worst relative error, output " << worst_out << ", gradients " << worst_grad << " (of "
                       << c.ours.size() - 1 << ": the inputs' and every parameter's; worst " << worst_grad_name << ")");
    }
    MESSAGE("transformer layers vs PyTorch: worst relative error over every output and gradient " << worst_overall
                                                                                               << " (tolerance " << tolerance
                                                                                               << ")");
}

TEST_CASE("transformer layers: parameter names, option errors") {
    TransformerEncoderLayer encoder(small_options(false, "relu"));
    std::vector<std::string> names;
    for (const auto& [name, t] : encoder.named_parameters()) names.push_back(name);
    CHECK(names == std::vector<std::string>{"ln_1.weight", "ln_1.bias", "attn.c_attn.weight", "attn.c_attn.bias",
                                            "attn.c_proj.weight", "attn.c_proj.bias", "ln_2.weight", "ln_2.bias",
                                            "mlp.c_fc.weight", "mlp.c_fc.bias", "mlp.c_proj.weight", "mlp.c_proj.bias"});
    CHECK(encoder.named_parameters().size() == 12);
    CHECK(encoder.attn->c_attn->weight.shape() == Shape{48, 16});

    TransformerDecoderLayer decoder(small_options(true, "gelu"));
    names.clear();
    for (const auto& [name, t] : decoder.named_parameters()) names.push_back(name);
    CHECK(names == std::vector<std::string>{"ln_1.weight", "ln_1.bias", "attn.c_attn.weight", "attn.c_attn.bias",
                                            "attn.c_proj.weight", "attn.c_proj.bias", "ln_2.weight", "ln_2.bias",
                                            "cross_attn.c_q.weight", "cross_attn.c_q.bias", "cross_attn.c_kv.weight",
                                            "cross_attn.c_kv.bias", "cross_attn.c_proj.weight", "cross_attn.c_proj.bias",
                                            "ln_3.weight", "ln_3.bias", "mlp.c_fc.weight", "mlp.c_fc.bias",
                                            "mlp.c_proj.weight", "mlp.c_proj.bias"});
    CHECK(decoder.cross_attn->c_kv->weight.shape() == Shape{32, 16});

    auto bad = [](auto edit) {
        TransformerLayerOptions o = small_options(false, "relu");
        edit(o);
        return o;
    };
    CHECK_THROWS_WITH_AS(TransformerEncoderLayer(bad([](auto& o) { o.n_head = 5; })),
                         "transformer layer: n_head 5 must be positive and divide d_model 16", std::invalid_argument);
    CHECK_THROWS_WITH_AS(TransformerDecoderLayer(bad([](auto& o) { o.activation = "swish"; })),
                         "transformer layer: activation must be \"relu\", \"gelu\" or \"gelu_tanh\", got \"swish\"",
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(TransformerEncoderLayer(bad([](auto& o) { o.dim_feedforward = 0; })),
                         doctest::Contains("dim_feedforward must be positive"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(TransformerEncoderLayer(bad([](auto& o) { o.dropout = 1.0f; })),
                         doctest::Contains("dropout 1.000000 is outside [0, 1)"), std::invalid_argument);
}

TEST_CASE("decoder layer: memory's keys and values projected once, and a step-by-step cached forward, equal the "
          "full forward") {
    for (bool norm_first : {false, true}) {
        CAPTURE(norm_first);
        NoGradGuard no_grad;
        Generator generator(7);
        TransformerDecoderLayer layer(small_options(norm_first, "gelu"));
        randomise(layer, generator);
        layer.eval();
        const int64_t T = 6, S = 5, C = 16;
        const Tensor x = normal_tensor({1, T, C}, generator);
        const Tensor memory = normal_tensor({1, S, C}, generator);
        const std::vector<float> full = layer.forward(x, memory, generator).to_vector();
        const Tensor kv = layer.cross_attn->memory_kv(memory);
        CHECK(layer.forward_kv(x, kv, generator).to_vector() == full);

        std::vector<float> keys(static_cast<size_t>(T * C)), values(keys.size());
        double worst = 0.0;
        for (int64_t t = 0; t < T; ++t) {
            const Tensor step = Tensor::from_vector({1, 1, C}, std::vector<float>(x.data() + t * C, x.data() + (t + 1) * C));
            AttentionInference cache{keys.data(), values.data(), t, T, false, Tensor()};
            DecoderAttentionOptions attention;
            attention.self_inference = &cache;
            const std::vector<float> y = layer.forward_kv(step, kv, generator, attention).to_vector();
            for (int64_t c = 0; c < C; ++c)
                worst = std::max(worst, double(std::fabs(y[static_cast<size_t>(c)] - full[static_cast<size_t>(t * C + c)])));
        }
        MESSAGE("decoder layer, norm_first " << norm_first << ": cached steps vs full forward, worst absolute difference "
                                             << worst);
        CHECK(worst < 1e-5);
    }
}

TEST_CASE("transformer layers: dropout in train mode only, the same masks for the same generator seed") {
    TransformerLayerOptions options = small_options(false, "relu");
    options.dropout = 0.2f;
    Generator generator(3);
    TransformerDecoderLayer layer(options);
    randomise(layer, generator);
    const Tensor x = normal_tensor({2, 5, 16}, generator), memory = normal_tensor({2, 4, 16}, generator);
    auto run = [&](uint64_t seed) {
        Generator g(seed);
        return layer.forward(x, memory, g).to_vector();
    };
    const std::vector<float> a = run(11), b = run(11), c = run(12);
    CHECK(a == b);
    CHECK(a != c);
    layer.eval();
    const std::vector<float> e1 = run(11), e2 = run(12);
    CHECK(e1 == e2);
    CHECK(e1 != a);
}
