// gpt serve's backpropagation view (serve/api.h backprop_view) against a direct forward and backward in
// C++ on the same checkpoint and example: GPT::forward → cross_entropy on the scored row → backward, then
// the norms computed here. (tests/scripts/serve_api_check.py makes the same comparison against PyTorch
// through the real server.)
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <set>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "autograd/ops.h"
#include "data/char_tokenizer.h"
#include "nn/init.h"
#include "serve/api.h"
#include "train/checkpoint.h"

using namespace gpt;

namespace {

double norm_of(const float* v, int64_t n) {
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(v[i]) * v[i];
    return std::sqrt(sum);
}

}  // namespace

TEST_CASE("backprop view: loss, every parameter's gradient norm and the input gradients equal a direct backward") {
    const std::string text = "the quick brown fox jumps over the lazy dog\n";
    const auto tokenizer = CharTokenizer::train(text);
    TrainConfig config;
    config.model.vocab_size = tokenizer->vocab_size();
    config.model.block_size = 24;
    config.model.n_layer = 2;
    config.model.n_head = 2;
    config.model.n_embd = 16;
    GPT model(config.model);
    Generator init(11);
    init_gpt2(model, init);
    const std::string path = (std::filesystem::temp_directory_path() /
                              ("gpt_test_backprop_" + std::to_string(getpid()) + ".h5")).string();
    save_weights(path, model, *tokenizer, config);
    const LoadedCheckpoint checkpoint = load_checkpoint(path);
    std::filesystem::remove(path);

    const std::string prompt = "the quick brown";
    const int64_t position = 6, T = position + 1;
    const nlohmann::json view = backprop_view(checkpoint, {{"prompt", prompt}, {"position", position}});

    // The direct computation: predict ids[position + 1] from ids[0..position].
    const std::vector<int32_t> ids = checkpoint.tokenizer->encode(prompt);
    const std::vector<int32_t> prefix(ids.begin(), ids.begin() + T);
    std::vector<int32_t> targets(static_cast<size_t>(T), -100);
    targets.back() = ids[static_cast<size_t>(T)];
    const GPT& served = *checkpoint.model;
    for (const auto& [name, w] : served.named_parameters()) CHECK_MESSAGE(w.grad() == nullptr, name);  // released
    Generator unused(0);
    const Tensor logits = served.forward(prefix, 1, T, unused);  // [1, T, V]
    Tensor loss = cross_entropy(reshape(logits, {T, logits.size(-1)}), targets);
    loss.backward();

    CHECK(view["loss"].get<double>() == doctest::Approx(loss.item()).epsilon(1e-6));
    const NamedTensors parameters = served.named_parameters();
    REQUIRE(view["parameters"].size() == parameters.size());
    for (size_t i = 0; i < parameters.size(); ++i) {
        const auto& [name, w] = parameters[i];
        CHECK(view["parameters"][i]["name"] == name);
        const double direct = w.grad() ? norm_of(w.grad(), w.numel()) : 0.0;
        CHECK_MESSAGE(view["parameters"][i]["grad_norm"].get<double>() == doctest::Approx(direct).epsilon(1e-5), name);
    }
    // Learned positions: position t is used once, so ∂L/∂(embedding row t) = ∂L/∂(wpe row t).
    const float* wpe_grad = nullptr;
    for (const auto& [name, w] : parameters)
        if (name == "wpe.weight") wpe_grad = w.grad();
    REQUIRE(wpe_grad != nullptr);
    const int64_t C = config.model.n_embd;
    REQUIRE(view["input_grad_norms"].size() == static_cast<size_t>(T));
    for (int64_t t = 0; t < T; ++t)
        CHECK(view["input_grad_norms"][static_cast<size_t>(t)].get<double>() ==
              doctest::Approx(norm_of(wpe_grad + t * C, C)).epsilon(1e-5));
    // The tape names each block's activations (the page groups it by block with them).
    std::set<std::string> names;
    for (const auto& t : view["tape"]["tensors"]) names.insert(t["name"].get<std::string>());
    for (const char* name : {"loss", "embedding", "h.0.ln_1", "h.0.attn.qkv", "h.0.attn.heads", "h.0.mlp.act", "h.1.out",
                             "h.1.attn.c_attn.weight"})
        CHECK_MESSAGE(names.count(name) == 1, name);
}
