// Vocabulary padding (GPTConfig::vocab_used, --vocab_pad): the padded rows change nothing for the real
// tokens, take no probability (loss, gradient) and are never sampled; the setting survives a checkpoint.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>

#include "data/bpe_tokenizer.h"
#include "nn/gpt.h"
#include "nn/init.h"
#include "train/checkpoint.h"
#include "train/config.h"
#include "generate/generate.h"

using namespace gpt;

TEST_CASE("vocab padding: same logits and loss for real tokens, no probability or gradient for padded ids") {
    GPTConfig padded;
    padded.vocab_size = 320;
    padded.vocab_used = 257;
    padded.block_size = 16;
    padded.n_layer = 1;
    padded.n_head = 2;
    padded.n_embd = 16;
    GPTConfig plain = padded;
    plain.vocab_size = 257;
    plain.vocab_used = 0;
    GPT a(padded), b(plain);
    Generator generator(5);
    init_gpt2(a, generator);
    const NamedTensors pa = a.named_parameters(), pb = b.named_parameters();
    for (size_t i = 0; i < pa.size(); ++i) std::copy_n(pa[i].second.data(), pb[i].second.numel(), pb[i].second.data());

    std::vector<int32_t> ids(2 * 16), targets(2 * 16);
    for (auto& id : ids) id = int32_t(generator.below(257));
    for (auto& t : targets) t = int32_t(generator.below(257));
    const Tensor la = a.forward(ids, 2, 16, generator), lb = b.forward(ids, 2, 16, generator);
    for (int64_t r = 0; r < 32; ++r) {
        for (int64_t v = 0; v < 257; ++v) CHECK(la.data()[r * 320 + v] == doctest::Approx(lb.data()[r * 257 + v]).epsilon(1e-5));
        for (int64_t v = 257; v < 320; ++v) CHECK(la.data()[r * 320 + v] <= -1e29f);
    }
    Tensor loss_a = GPT::loss(la, targets), loss_b = GPT::loss(lb, targets);
    CHECK(loss_a.item() == doctest::Approx(loss_b.item()).epsilon(1e-6));
    loss_a.backward();
    const Tensor& wte = a.wte->weight;
    double padded_grad = 0.0;
    for (int64_t i = 257 * 16; i < 320 * 16; ++i) padded_grad += std::abs(wte.grad()[i]);
    CHECK(padded_grad == 0.0);
}

TEST_CASE("vocab padding: never sampled, stored in the checkpoint, chosen by --vocab_pad") {
    GPTConfig padded;
    padded.vocab_size = 320;
    padded.vocab_used = 257;
    padded.block_size = 16;
    padded.n_layer = 1;
    padded.n_head = 2;
    padded.n_embd = 16;
    GPT model(padded);
    Generator generator(6);
    init_gpt2(model, generator);
    // Raise the padded rows' logits as far as the weights can: they must still never come out.
    for (int64_t i = 257 * 16; i < 320 * 16; ++i) model.wte->weight.data()[i] = 3.0f;
    model.eval();
    const auto tokenizer = BpeTokenizer::from_merges({}, {std::string(kEndOfText)});
    REQUIRE(tokenizer->vocab_size() == 257);
    for (bool cache : {true, false}) {
        GenerateOptions options;
        options.max_new_tokens = 200;
        options.use_cache = cache;
        options.sampling.temperature = 3.0f;
        Generator draw(7);
        const GenerateResult result = generate(model, *tokenizer, {10}, options, draw, nullptr, nullptr);
        for (int32_t id : result.tokens) CHECK(id < 257);
    }

    const std::string path = (std::filesystem::temp_directory_path() / "gpt_vocab_pad_test.h5").string();
    TrainConfig train;
    save_weights(path, model, *tokenizer, train);
    const LoadedCheckpoint loaded = load_checkpoint(path);
    CHECK(loaded.model_config.vocab_size == 320);
    CHECK(loaded.model_config.vocab_used == 257);
    std::filesystem::remove(path);

    TrainConfig config;
    config.vocab_pad = 64;
    const GPTConfig m = config.model_config(50257);
    CHECK(m.vocab_size == 50304);
    CHECK(m.vocab_used == 50257);
    CHECK(config.model_config(50304).vocab_used == 0);  // already a multiple: no padding
}
