// The encoder–decoder Transformer (nn/encoder_decoder.h) against PyTorch 1.13's own nn.Transformer
// (batch_first=True; tests/nn/reference_encoder_decoder.py) on the same weights: logits, loss (with and
// without label smoothing) and every parameter's gradient, post-norm and pre-norm, shared or separate
// embeddings, tied or untied output, with source and target key padding. Also: names, config errors,
// initialisation, and the decoder's cache against the full forward.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "nn/encoder_decoder.h"
#include "nn/init.h"
#include "tests/reference_python.h"
#include "tests/reference_text.h"

using namespace gpt;

namespace {

EncoderDecoderConfig small_config(bool norm_first, bool shared, bool tied) {
    EncoderDecoderConfig c;
    c.target_vocab_size = 11;
    c.source_vocab_size = shared ? 11 : 13;
    c.source_block_size = 12;
    c.target_block_size = 10;
    c.n_encoder_layer = 2;
    c.n_decoder_layer = 2;
    c.n_head = 4;
    c.n_embd = 16;
    c.dim_feedforward = 24;
    c.dropout = 0.0;
    c.activation = norm_first ? "gelu" : "relu";
    c.norm_first = norm_first;
    c.share_embeddings = shared;
    c.tie_embeddings = tied;
    return c;
}

// Every parameter away from its trivial value (weights and embeddings N(0, 1/C = 0.25²: unit gain per
// layer, so float32 rounding is not amplified through the 4 layers and 4 heads), biases N(0, 0.1²),
// LayerNorm gains 1 + N(0, 0.1²)), so each gradient and PyTorch's handling of it are tested.
void randomise(Module& model, Generator& generator) {
    for (auto& [name, t] : model.named_parameters()) {
        const bool norm = name.find("ln_") != std::string::npos;
        const bool bias = name.size() >= 4 && name.compare(name.size() - 4, 4, "bias") == 0;
        for (int64_t i = 0; i < t.numel(); ++i)
            t.data()[i] = static_cast<float>((norm && !bias ? 1.0 : 0.0) + (norm || bias ? 0.1 : 0.25) * generator.normal());
    }
}

std::vector<int32_t> random_ids(int64_t n, int64_t V, Generator& generator) {
    std::vector<int32_t> ids(static_cast<size_t>(n));
    for (auto& id : ids) id = static_cast<int32_t>(generator.next_u64() % static_cast<uint64_t>(V));
    return ids;
}

std::vector<float> as_floats(const std::vector<int32_t>& ids) { return {ids.begin(), ids.end()}; }

std::vector<float> padding_of(const std::vector<int64_t>& lengths, int64_t T) {
    std::vector<float> values;
    for (int64_t length : lengths)
        for (int64_t t = 0; t < T; ++t) values.push_back(t >= length ? 1.0f : 0.0f);
    return values;
}

}  // namespace

TEST_CASE("encoder-decoder matches PyTorch's nn.Transformer: logits, loss and every gradient, post-norm and "
          "pre-norm, shared/separate embeddings, tied/untied output, label smoothing, key padding, ≤ 1e-4") {
    const std::string stem = std::string(GPT_BINARY_DIR) + "/encoder_decoder_" + std::to_string(getpid());
    const std::string in_path = stem + "_in.txt", out_path = stem + "_out.txt";
    std::ofstream file(in_path);
    Generator generator(2917);
    const int64_t B = 3, S = 8, T = 7;
    const std::vector<int64_t> source_lengths{8, 5, 3}, target_lengths{7, 4, 6};
    struct Case {
        std::string name;
        std::map<std::string, std::vector<float>> ours;
    };
    std::vector<Case> cases;
    struct Variant {
        bool norm_first, shared, tied;
        float label_smoothing;
    };
    for (const Variant v : {Variant{false, true, true, 0.1f}, Variant{false, false, false, 0.0f},
                            Variant{true, true, true, 0.0f}, Variant{true, false, false, 0.1f}}) {
        const std::string name = std::string(v.norm_first ? "pre" : "post") + (v.shared ? "_shared" : "_separate") +
                                 (v.tied ? "_tied" : "_untied") + (v.label_smoothing > 0 ? "_smoothed" : "");
        const EncoderDecoderConfig config = small_config(v.norm_first, v.shared, v.tied);
        EncoderDecoder model(config);
        randomise(model, generator);
        const std::vector<int32_t> source = random_ids(B * S, config.source_vocab_size, generator);
        const std::vector<int32_t> target_in = random_ids(B * T, config.target_vocab_size, generator);
        std::vector<int32_t> target_out = random_ids(B * T, config.target_vocab_size, generator);
        for (int64_t b = 0; b < B; ++b)
            for (int64_t t = target_lengths[static_cast<size_t>(b)]; t < T; ++t) target_out[static_cast<size_t>(b * T + t)] = -100;
        Generator unused(1);
        const Tensor logits = model.forward(source, B, S, KeyPadding{source_lengths, {}}, target_in, T,
                                            KeyPadding{target_lengths, {}}, unused);
        Tensor loss = EncoderDecoder::loss(logits, target_out, v.label_smoothing);
        loss.backward();

        const std::map<std::string, float> scalars{
            {"norm_first", v.norm_first}, {"gelu", config.activation == "gelu"}, {"n_head", float(config.n_head)},
            {"dim_feedforward", float(config.dim_feedforward)}, {"n_encoder_layer", float(config.n_encoder_layer)},
            {"n_decoder_layer", float(config.n_decoder_layer)}, {"label_smoothing", v.label_smoothing}};
        for (const auto& [field, value] : scalars) test::write_tensor(file, name + "." + field, {}, {value});
        test::write_tensor(file, name + ".source", {B, S}, as_floats(source));
        test::write_tensor(file, name + ".target_in", {B, T}, as_floats(target_in));
        test::write_tensor(file, name + ".target_out", {B, T}, as_floats(target_out));
        test::write_tensor(file, name + ".source_padding", {B, S}, padding_of(source_lengths, S));
        test::write_tensor(file, name + ".target_padding", {B, T}, padding_of(target_lengths, T));
        Case c{name, {{"logits", logits.to_vector()}, {"loss", {loss.item()}}}};
        for (const auto& [pname, t] : model.named_parameters()) {
            test::write_tensor(file, name + ".param." + pname, t.shape(), t.to_vector());
            c.ours["grad." + pname] = t.grad_tensor().to_vector();
        }
        cases.push_back(std::move(c));
    }
    file.close();

    const std::string command = std::string(GPT_PYTHON) + " " + GPT_SOURCE_DIR +
                                "/tests/nn/reference_encoder_decoder.py " + in_path + " " + out_path;
    const int status = std::system(command.c_str());
    const int rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    std::remove(in_path.c_str());
    if (rc == 3 || rc == 127) {
        test::reference_unavailable(std::string(GPT_PYTHON) + " cannot import torch (reference_encoder_decoder.py exit " +
                                    std::to_string(rc) + ")");
        return;
    }
    REQUIRE_MESSAGE(rc == 0, "reference_encoder_decoder.py failed with exit status " << rc);
    const auto reference = test::read_tensors(out_path);
    std::remove(out_path.c_str());

    const double tolerance = 1e-4;
    double worst_overall = 0.0;
    for (const Case& c : cases) {
        double worst_logits = 0.0, worst_loss = 0.0, worst_grad = 0.0;
        std::string worst_grad_name;
        for (const auto& [field, ours] : c.ours) {
            const std::string key = c.name + "." + field;
            REQUIRE_MESSAGE(reference.count(key) == 1, "reference output lacks " << key);
            const double error = test::compare(ours, reference.at(key));
            CHECK_MESSAGE(error <= tolerance, key << ": relative error " << error);
            if (field == "logits") worst_logits = error;
            else if (field == "loss") worst_loss = error;
            else if (error > worst_grad) {
                worst_grad = error;
                worst_grad_name = field;
            }
            worst_overall = std::max(worst_overall, error);
        }
        MESSAGE(c.name << ": worst relative error, logits " << worst_logits << ", loss " << worst_loss << ", gradients "
                       << worst_grad << " (of " << c.ours.size() - 2 << " parameters; worst " << worst_grad_name << ")");
    }
    MESSAGE("encoder-decoder vs nn.Transformer: worst relative error over logits, losses and gradients "
            << worst_overall << " (tolerance " << tolerance << ")");
}

TEST_CASE("encoder-decoder: parameter names, config errors, initialisation") {
    EncoderDecoder shared(small_config(false, true, true));
    std::vector<std::string> names;
    for (const auto& [name, t] : shared.named_parameters()) names.push_back(name);
    CHECK(names.front() == "wte.weight");
    CHECK(names[1] == "encoder.h.0.ln_1.weight");
    CHECK(names.back() == "decoder.h.1.mlp.c_proj.bias");
    CHECK(names.size() == 1 + 2 * 12 + 2 * 20);

    EncoderDecoder separate(small_config(true, false, false));
    names.clear();
    for (const auto& [name, t] : separate.named_parameters()) names.push_back(name);
    CHECK(names[0] == "wte.weight");
    CHECK(names[1] == "wte_source.weight");
    CHECK(std::find(names.begin(), names.end(), "encoder.ln_f.weight") != names.end());
    CHECK(std::find(names.begin(), names.end(), "decoder.ln_f.bias") != names.end());
    CHECK(names.back() == "lm_head.weight");
    CHECK(separate.wte_source->weight.shape() == Shape{13, 16});
    CHECK(separate.lm_head->weight.shape() == Shape{11, 16});

    auto bad = [](auto edit) {
        EncoderDecoderConfig c = small_config(false, true, true);
        edit(c);
        return c;
    };
    CHECK_THROWS_WITH_AS(EncoderDecoder(bad([](auto& c) { c.source_vocab_size = 12; })),
                         "encoder-decoder config: share_embeddings needs source_vocab_size (12) equal to "
                         "target_vocab_size (11)",
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(EncoderDecoder(bad([](auto& c) { c.n_head = 3; })),
                         doctest::Contains("encoder-decoder config: transformer layer: n_head 3"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(EncoderDecoder(bad([](auto& c) { c.n_decoder_layer = 0; })),
                         doctest::Contains("n_decoder_layer must be positive"), std::invalid_argument);

    // Initialisation: LayerNorms 1/0, biases 0, weights N(0, 0.02²), residual projections smaller;
    // the same seed gives the same weights.
    Generator g1(5), g2(5);
    init_encoder_decoder(separate, g1);
    EncoderDecoder again(small_config(true, false, false));
    init_encoder_decoder(again, g2);
    CHECK(separate.named_parameters().size() == again.named_parameters().size());
    for (size_t i = 0; i < separate.named_parameters().size(); ++i)
        CHECK(separate.named_parameters()[i].second.to_vector() == again.named_parameters()[i].second.to_vector());
    CHECK(separate.encoder_ln_f->weight.to_vector() == std::vector<float>(16, 1.0f));
    CHECK(separate.decoder_layers[0]->cross_attn->c_q->bias.to_vector() == std::vector<float>(16, 0.0f));
    double sum2 = 0.0;
    const Tensor& w = separate.decoder_layers[1]->mlp->c_fc->weight;
    for (float x : w.to_vector()) sum2 += double(x) * x;
    CHECK(std::sqrt(sum2 / double(w.numel())) == doctest::Approx(0.02).epsilon(0.15));
}

TEST_CASE("encoder-decoder: the decoder's cache, one token at a time, equals the full forward at every step") {
    for (bool norm_first : {false, true}) {
        CAPTURE(norm_first);
        NoGradGuard no_grad;
        const EncoderDecoderConfig config = small_config(norm_first, true, true);
        EncoderDecoder model(config);
        Generator generator(12);
        randomise(model, generator);
        model.eval();
        const int64_t S = 6, T = 9;
        const std::vector<int32_t> source = random_ids(S, config.source_vocab_size, generator);
        const std::vector<int32_t> target = random_ids(T, config.target_vocab_size, generator);
        const Tensor memory = model.encode(source, 1, S, {}, generator);
        const std::vector<Tensor> kv = model.memory_kv(memory);
        const std::vector<float> full = model.logits(model.decode(target, 1, T, kv, {}, {}, generator)).to_vector();
        const int64_t V = config.target_vocab_size;
        DecoderCache cache(config);
        double worst = 0.0;
        for (int64_t t = 0; t < T; ++t) {
            const std::vector<float> step =
                model.logits(model.decode({target[static_cast<size_t>(t)]}, 1, 1, kv, {}, {}, generator, &cache)).to_vector();
            for (int64_t v = 0; v < V; ++v)
                worst = std::max(worst, double(std::fabs(step[static_cast<size_t>(v)] - full[static_cast<size_t>(t * V + v)])));
        }
        CHECK(cache.length() == T);
        MESSAGE("encoder-decoder, norm_first " << norm_first << ": cached steps vs full forward, worst absolute "
                                                                "logit difference " << worst);
        CHECK(worst < 1e-5);
        // The cache refuses what it cannot hold, with one line.
        CHECK_THROWS_WITH_AS(model.decode({1, 2}, 1, 2, kv, {}, {}, generator, &cache),
                             doctest::Contains("9 cached + 2 new tokens exceed target_block_size 10"), std::invalid_argument);
    }
}
