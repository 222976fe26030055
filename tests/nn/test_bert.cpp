// model = bert: the GPT's modules with bidirectional attention (nn/gpt.h, GPTConfig::bidirectional)
// against PyTorch 1.13's own nn.TransformerEncoder of nn.TransformerEncoderLayer(norm_first=True, GELU
// tanh) + LayerNorm + the tied head + cross_entropy(ignore_index=-100) (tests/nn/reference_bert.py) on the
// same weights: logits, the masked-LM loss and every parameter's gradient; and what a bert model refuses.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "nn/gpt.h"
#include "nn/kv_cache.h"
#include "tests/reference_python.h"
#include "tests/reference_text.h"

using namespace gpt;

namespace {

GPTConfig bert_config() {
    GPTConfig c;
    c.kind = "bert";
    c.vocab_size = 13;
    c.block_size = 9;
    c.n_layer = 2;
    c.n_head = 4;
    c.n_embd = 16;
    return c;
}

// Weights ~ N(0, 0.3²), biases ~ N(0, 0.1²), norm gains 1 + N(0, 0.1²): every parameter away from its
// trivial value, so that each one's gradient is tested.
void randomise(GPT& model, Generator& generator) {
    for (auto& [name, t] : model.named_parameters()) {
        const bool norm = name.find("ln_") != std::string::npos;
        const bool bias = name.size() >= 4 && name.compare(name.size() - 4, 4, "bias") == 0;
        for (int64_t i = 0; i < t.numel(); ++i)
            t.data()[i] = static_cast<float>((norm && !bias ? 1.0 : 0.0) + (norm || bias ? 0.1 : 0.3) * generator.normal());
    }
}

}  // namespace

TEST_CASE("bert (bidirectional GPT) matches PyTorch's nn.TransformerEncoder(norm_first, GELU tanh): logits, "
          "masked-LM loss and every gradient, ≤ 1e-4 relative") {
    GPT model(bert_config());
    Generator generator(31);
    randomise(model, generator);
    const int64_t B = 3, T = 9, V = 13;
    std::vector<int32_t> ids(size_t(B * T)), targets(size_t(B * T), -100);
    for (size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<int32_t>(generator.below(V));
    for (size_t i = 1; i < targets.size(); i += 4) targets[i] = static_cast<int32_t>(generator.below(V));
    Generator unused(1);
    const Tensor logits = model.forward(ids, B, T, unused);
    Tensor loss = GPT::loss(logits, targets);
    loss.backward();

    const std::string stem = std::string(GPT_BINARY_DIR) + "/bert_" + std::to_string(getpid());
    const std::string in_path = stem + "_in.txt", out_path = stem + "_out.txt";
    {
        std::ofstream file(in_path);
        test::write_tensor(file, "n_head", {}, {4.0f});
        test::write_tensor(file, "ids", {B, T}, std::vector<float>(ids.begin(), ids.end()));
        test::write_tensor(file, "targets", {B * T}, std::vector<float>(targets.begin(), targets.end()));
        for (const auto& [name, t] : model.named_parameters()) test::write_tensor(file, "param." + name, t.shape(), t.to_vector());
    }
    const std::string command =
        std::string(GPT_PYTHON) + " " + GPT_SOURCE_DIR + "/tests/nn/reference_bert.py " + in_path + " " + out_path;
    const int status = std::system(command.c_str());
    const int rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    std::remove(in_path.c_str());
    if (rc == 3 || rc == 127) {
        test::reference_unavailable(std::string(GPT_PYTHON) + " cannot import torch (reference_bert.py exit " +
                                    std::to_string(rc) + ")");
        return;
    }
    REQUIRE_MESSAGE(rc == 0, "reference_bert.py failed with exit status " << rc);
    const auto reference = test::read_tensors(out_path);
    std::remove(out_path.c_str());

    std::map<std::string, std::vector<float>> ours{{"logits", logits.to_vector()}, {"loss", {loss.item()}}};
    for (const auto& [name, t] : model.named_parameters()) ours["grad." + name] = t.grad_tensor().to_vector();
    double worst = 0.0;
    std::string worst_name;
    for (const auto& [key, values] : ours) {
        REQUIRE_MESSAGE(reference.count(key) == 1, "reference output lacks " << key);
        const double error = test::compare(values, reference.at(key));
        CHECK_MESSAGE(error <= 1e-4, key << ": relative error " << error);
        if (error > worst) worst = error, worst_name = key;
    }
    CHECK(ours.size() == 2 + model.named_parameters().size());
    MESSAGE("bert vs PyTorch's TransformerEncoder: worst relative error " << worst << " (" << worst_name << ") over the "
                                                                            "logits, the loss and "
                                                                         << ours.size() - 2 << " gradients");
}

TEST_CASE("bert: every position sees every other; no key/value cache; config errors name the field") {
    GPT model(bert_config());
    Generator generator(5);
    randomise(model, generator);
    model.eval();
    std::vector<int32_t> a{1, 2, 3, 4, 5}, b{1, 2, 3, 4, 6};  // only the last token differs
    const std::vector<float> la = model.forward(a, 1, 5).to_vector(), lb = model.forward(b, 1, 5).to_vector();
    CHECK(la[0] != lb[0]);  // the first position's logits change with the last token
    KVCache cache(model.config());
    ForwardProbe probe;
    probe.cache = &cache;
    CHECK_THROWS_WITH_AS(model.forward(a, 1, 5, &probe), doctest::Contains("use gpt fill"), std::invalid_argument);
    GPTConfig bad = bert_config();
    bad.block_size = 2;
    CHECK_THROWS_WITH_AS(bad.validate(), doctest::Contains("block_size >= 3"), std::invalid_argument);
    bad = bert_config();
    bad.kind = "xlnet";
    CHECK_THROWS_WITH_AS(bad.validate(), doctest::Contains("model must be \"gpt\" or \"bert\""), std::invalid_argument);
    bad = bert_config();
    bad.attention = "mla";
    bad.kv_latent_dim = 8;
    CHECK_THROWS_WITH_AS(bad.validate(), doctest::Contains("needs attention = \"mha\""), std::invalid_argument);
}
