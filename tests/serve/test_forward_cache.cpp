// gpt serve's forward cache (serve/forward_cache.h): a request about the prompt of the last one reuses
// its recorded forward and answers exactly what a fresh forward answers; another prompt runs the model
// again. And forward_view's next-token logits, which it computes for the chosen position alone, are the
// full forward's logits at that position.
#include <doctest/doctest.h>

#include <filesystem>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "data/char_tokenizer.h"
#include "nn/init.h"
#include "serve/api.h"
#include "serve/forward_cache.h"
#include "train/checkpoint.h"

using namespace gpt;
using nlohmann::json;

namespace {

LoadedCheckpoint small_checkpoint(const std::string& text) {
    const auto tokenizer = CharTokenizer::train(text);
    TrainConfig config;
    config.model.block_size = 24;
    config.model.n_layer = 2;
    config.model.n_head = 2;
    config.model.n_embd = 16;
    config.model.vocab_size = tokenizer->vocab_size();
    GPT model(config.model);
    Generator init(3);
    init_gpt2(model, init);
    const std::string path = (std::filesystem::temp_directory_path() /
                              ("gpt_test_forward_cache_" + std::to_string(getpid()) + ".h5")).string();
    save_weights(path, model, *tokenizer, config);
    LoadedCheckpoint checkpoint = load_checkpoint(path);
    std::filesystem::remove(path);
    return checkpoint;
}

}  // namespace

TEST_CASE("forward cache: the same prompt reuses the recorded forward, and answers as a fresh one does") {
    const std::string text = "the quick brown fox jumps over the lazy dog";
    const LoadedCheckpoint checkpoint = small_checkpoint(text);
    ForwardCache cache;
    const json first = {{"prompt", "the quick"}, {"temperature", 0.8}};
    // Every kind of request the page sends about one prompt: the stage views and bars, the maps, a
    // slider, another token, layer and head.
    const std::vector<json> same_prompt = {
        {{"prompt", "the quick"}, {"include", {"stages"}}},
        {{"prompt", "the quick"}, {"include", {"attention", "gelu", "embeddings", "latent"}}},
        {{"prompt", "the quick"}, {"include", json::array()}, {"temperature", 1.5}, {"top_k", 3}},
        {{"prompt", "the quick"}, {"position", 3}, {"stage_layer", 1}, {"stage_head", 1}},
    };
    CHECK(forward_view(checkpoint, first, &cache) == forward_view(checkpoint, first));
    CHECK(cache.misses() == 1);
    for (const json& request : same_prompt) CHECK(forward_view(checkpoint, request, &cache) == forward_view(checkpoint, request));
    CHECK(cache.hits() == static_cast<int64_t>(same_prompt.size()));
    CHECK(cache.misses() == 1);
    // Another prompt (one more token) is another forward.
    const json longer = {{"prompt", "the quick "}};
    CHECK(forward_view(checkpoint, longer, &cache) == forward_view(checkpoint, longer));
    CHECK(cache.misses() == 2);
    // The recorded forward is the model's own: record_forward's last block output equals GPT::hidden's.
    const std::vector<int32_t> ids = checkpoint.tokenizer->encode("the quick");
    const RecordedForward recorded = record_forward(*checkpoint.model, ids);
    NoGradGuard no_grad;
    const Tensor hidden = checkpoint.model->hidden(ids, 1, static_cast<int64_t>(ids.size()));
    REQUIRE(recorded.hidden.numel() == hidden.numel());
    for (int64_t i = 0; i < hidden.numel(); ++i) CHECK(recorded.hidden.data()[i] == hidden.data()[i]);
    CHECK(recorded.probe.attention.size() == 2);
    CHECK(recorded_bytes(recorded) > 0);
}

TEST_CASE("forward view: the next-token logits of the chosen position are the full forward's") {
    const std::string text = "a stitch in time saves nine";
    const LoadedCheckpoint checkpoint = small_checkpoint(text);
    const std::string prompt = "a stitch in";
    const std::vector<int32_t> ids = checkpoint.tokenizer->encode(prompt);
    const auto T = static_cast<int64_t>(ids.size());
    NoGradGuard no_grad;
    const Tensor logits = checkpoint.model->forward(ids, 1, T);  // [1, T, V]
    const int64_t V = logits.size(-1);
    for (const int64_t position : {int64_t{0}, int64_t{4}, T - 1}) {
        const json view = forward_view(checkpoint, {{"prompt", prompt}, {"position", position}, {"include", json::array()}});
        for (const json& c : view["sampling"]["candidates"]) {
            const float full = logits.data()[position * V + c["id"].get<int64_t>()];
            CHECK(c["logit"].get<double>() == doctest::Approx(full).epsilon(1e-5));
        }
    }
}
