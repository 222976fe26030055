// The KV cache must be invisible: at every step, the logits of the last position computed incrementally
// equal those of a full forward over the same tokens (cropped to block_size once the window slides).
#include <doctest/doctest.h>

#include <algorithm>
#include <ctime>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "nn/init.h"
#include "nn/kv_cache.h"

using namespace gpt;

namespace {

GPTConfig tiny_config(int64_t n_kv_head, const std::string& pos_encoding, int64_t block_size = 64) {
    GPTConfig c;
    c.vocab_size = 37;
    c.block_size = block_size;
    c.n_layer = 2;
    c.n_head = 4;
    c.n_kv_head = n_kv_head;
    c.n_embd = 32;
    c.pos_encoding = pos_encoding;
    return c;
}

// GPT-2 init, then every non-LayerNorm weight scaled up, so that attention is far from uniform and the
// logits far from equal: with std 0.02 a wrong cache row would hardly move the output.
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

// Logits [V] of the last position of a full forward over `ids`.
std::vector<float> full_forward_last(const GPT& model, const std::vector<int32_t>& ids) {
    NoGradGuard no_grad;
    Generator unused(0);
    const int64_t T = static_cast<int64_t>(ids.size()), V = model.config().vocab_size;
    const Tensor logits = model.forward(ids, 1, T, unused);
    const float* last = logits.data() + (T - 1) * V;
    return std::vector<float>(last, last + V);
}

// The benchmark's baseline, as nanoGPT at inference: all blocks over the context, the projection on the
// last row only.
std::vector<float> uncached_next_logits(const GPT& model, const std::vector<int32_t>& ids) {
    NoGradGuard no_grad;
    Generator unused(0);
    const int64_t T = static_cast<int64_t>(ids.size()), C = model.config().n_embd;
    Tensor x = model.embed(ids, 1, T, unused);
    for (const auto& block : model.h) x = block->forward(x, unused);
    Tensor last = Tensor::empty({1, C});
    std::copy_n(x.data() + (T - 1) * C, C, last.data());
    return model.logits_from_hidden(last).to_vector();
}

// max |a − b| / max |b|
double relative_error(const std::vector<float>& a, const std::vector<float>& b) {
    REQUIRE(a.size() == b.size());
    double diff = 0.0, scale = 0.0;
    for (size_t i = 0; i < a.size(); ++i) {
        diff = std::max(diff, std::fabs(static_cast<double>(a[i]) - b[i]));
        scale = std::max(scale, std::fabs(static_cast<double>(b[i])));
    }
    return diff / scale;
}

std::vector<int32_t> random_tokens(int64_t n, int64_t vocab, Generator& generator) {
    std::vector<int32_t> ids;
    for (int64_t i = 0; i < n; ++i) ids.push_back(static_cast<int32_t>(generator.below(static_cast<uint64_t>(vocab))));
    return ids;
}

}  // namespace

TEST_CASE("KV cache logits equal a full forward at every step of a 50-token generation") {
    for (const std::string pos : {"learned", "sinusoidal"}) {
        for (const int64_t n_kv_head : {4, 2, 1}) {
            CAPTURE(pos);
            CAPTURE(n_kv_head);
            const GPTConfig config = tiny_config(n_kv_head, pos);
            const auto model = random_model(config, 42 + static_cast<uint64_t>(n_kv_head));
            Generator draws(7);
            std::vector<int32_t> ids = random_tokens(5, config.vocab_size, draws);

            KVCache cache(config);
            Tensor logits = forward_tokens(*model, cache, ids);  // the prompt in one pass
            double worst = relative_error(logits.to_vector(), full_forward_last(*model, ids));
            double spread = 0.0;  // how far apart the logits are: the test must not pass on flat outputs
            for (int step = 0; step < 50; ++step) {
                const int32_t next = static_cast<int32_t>(draws.below(static_cast<uint64_t>(config.vocab_size)));
                ids.push_back(next);
                logits = forward_step(*model, cache, next);
                const std::vector<float> full = full_forward_last(*model, ids);
                worst = std::max(worst, relative_error(logits.to_vector(), full));
                spread = std::max(spread, static_cast<double>(*std::max_element(full.begin(), full.end()) -
                                                              *std::min_element(full.begin(), full.end())));
            }
            CHECK(cache.length() == 55);
            CHECK(worst <= 1e-5);
            CHECK(spread > 1.0);
        }
    }
}

TEST_CASE("a stale cache row changes the logits (the comparison can fail)") {
    const GPTConfig config = tiny_config(2, "learned");
    const auto model = random_model(config, 3);
    Generator draws(11);
    const std::vector<int32_t> ids = random_tokens(10, config.vocab_size, draws);
    KVCache cache(config);
    forward_tokens(*model, cache, std::vector<int32_t>(ids.begin(), ids.end() - 1));
    cache.keys(0, 3)[0] += 1.0f;
    const Tensor logits = forward_step(*model, cache, ids.back());
    CHECK(relative_error(logits.to_vector(), full_forward_last(*model, ids)) > 1e-4);
}

TEST_CASE("forward_context slides the window past block_size like a cropped full forward") {
    for (const std::string pos : {"learned", "sinusoidal"}) {
        CAPTURE(pos);
        const int64_t block_size = 16;
        const GPTConfig config = tiny_config(1, pos, block_size);
        const auto model = random_model(config, 5);
        Generator draws(13);
        std::vector<int32_t> ids = random_tokens(3, config.vocab_size, draws);
        KVCache cache(config);
        double worst = 0.0;
        for (int step = 0; step < 40; ++step) {
            const Tensor logits = forward_context(*model, cache, ids);
            const int64_t keep = std::min<int64_t>(static_cast<int64_t>(ids.size()), block_size);
            const std::vector<int32_t> window(ids.end() - keep, ids.end());
            worst = std::max(worst, relative_error(logits.to_vector(), full_forward_last(*model, window)));
            CHECK(cache.tokens() == window);
            ids.push_back(static_cast<int32_t>(draws.below(static_cast<uint64_t>(config.vocab_size))));
        }
        CHECK(ids.size() > 2 * block_size);
        CHECK(worst <= 1e-5);
    }
}

TEST_CASE("KV cache size follows n_kv_head, and misuse is a clear error") {
    const GPTConfig mha = tiny_config(4, "learned");
    const GPTConfig mqa = tiny_config(1, "learned");
    // 2 (k, v) · n_layer 2 · H_kv · hd 8 · 4 bytes
    CHECK(KVCache(mha).bytes_per_token() == 2 * 2 * 4 * 8 * 4);
    CHECK(KVCache(mqa).bytes_per_token() == 2 * 2 * 1 * 8 * 4);
    CHECK(KVCache(mha).bytes() == 64 * KVCache(mha).bytes_per_token());

    const auto model = random_model(tiny_config(4, "learned", 8), 1);
    KVCache cache(model->config());
    forward_tokens(*model, cache, {1, 2, 3, 4, 5, 6, 7, 8});
    CHECK(cache.full());
    CHECK_THROWS_WITH(forward_step(*model, cache, 1), doctest::Contains("exceed block_size 8"));
    cache.reset();
    CHECK_THROWS_WITH(forward_tokens(*model, cache, {}), doctest::Contains("no token ids"));
    KVCache wrong(mqa);
    CHECK_THROWS_WITH(forward_step(*model, wrong, 1), doctest::Contains("another model shape"));
    model->train();
    CHECK_THROWS_WITH(forward_step(*model, cache, 1), doctest::Contains("model.eval()"));
}

// Benchmark (run by hand: OMP_NUM_THREADS=1 test_nn -tc="*benchmark*" --no-skip): tokens/s with and without the cache at
// block_size 256, a 4-layer, 128-wide model, generating from a 1-token prompt to a full window.
TEST_CASE("benchmark: generation with and without the KV cache" * doctest::skip()) {
    GPTConfig config = tiny_config(4, "learned", 256);
    config.vocab_size = 512;
    config.n_layer = 4;
    config.n_embd = 128;
    for (const int64_t n_kv_head : {4, 1}) {
        config.n_kv_head = n_kv_head;
        const auto model = random_model(config, 1);
        Generator draws(3);
        const int64_t past = 32;  // tokens generated after the window is full: each re-feeds the window
        const std::vector<int32_t> ids = random_tokens(config.block_size + past, config.vocab_size, draws);
        // Process CPU time, not wall time: on a shared machine it is what an idle one would show, as long as
        // the run is single-threaded (OMP_NUM_THREADS=1), which is how the figures in docs/ were taken.
        auto cpu_seconds = [] { return static_cast<double>(std::clock()) / CLOCKS_PER_SEC; };
        auto prefix = [&](int64_t t) { return std::span<const int32_t>(ids.data(), static_cast<size_t>(t)); };

        KVCache cache(config);
        double t0 = cpu_seconds();
        for (int64_t t = 1; t <= config.block_size; ++t) forward_context(*model, cache, prefix(t));
        const double cached_s = cpu_seconds() - t0;
        t0 = cpu_seconds();
        for (int64_t t = config.block_size + 1; t <= config.block_size + past; ++t) forward_context(*model, cache, prefix(t));
        const double sliding_s = cpu_seconds() - t0;

        t0 = cpu_seconds();
        for (int64_t t = 1; t <= config.block_size; ++t)
            uncached_next_logits(*model, std::vector<int32_t>(ids.begin(), ids.begin() + t));
        const double full_s = cpu_seconds() - t0;

        std::printf("n_kv_head %lld: tokens 1..%lld: cache %.0f tok/s, full forward %.0f tok/s (%.1fx); past the "
                    "window (re-feed) %.0f tok/s; cache %lld bytes/token\n",
                    static_cast<long long>(n_kv_head), static_cast<long long>(config.block_size),
                    config.block_size / cached_s, config.block_size / full_s, full_s / cached_s, past / sliding_s,
                    static_cast<long long>(cache.bytes_per_token()));
    }
}
