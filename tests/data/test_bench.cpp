// Benchmark, skipped by default; run by hand (Tiny Shakespeare beside the checkout, ../shared/data/):
//   ./build/test_data -tc="*bench*" --no-skip
#include <doctest/doctest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "data/bpe_trainer.h"
#include "data/prepare.h"

using namespace gpt;

TEST_CASE("bpe bench on tinyshakespeare" * doctest::skip()) {
    const std::filesystem::path path = std::filesystem::path(GPT_SOURCE_DIR) / "../shared/data/tinyshakespeare.txt";
    std::ifstream in(path, std::ios::binary);
    REQUIRE_MESSAGE(in, "missing ", path.string());
    const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    for (int32_t vocab : {512, 4096}) {
        BpeTrainOptions options;
        options.vocab_size = vocab;
        const auto t0 = std::chrono::steady_clock::now();
        const auto tokenizer = train_bpe(text, options);
        const auto t1 = std::chrono::steady_clock::now();
        const std::vector<int32_t> ids = tokenizer->encode(text);
        const auto t2 = std::chrono::steady_clock::now();
        const std::vector<int32_t> parallel = encode_parallel(*tokenizer, text);
        const auto t3 = std::chrono::steady_clock::now();
        const std::string back = tokenizer->decode(ids);
        const auto t4 = std::chrono::steady_clock::now();
        CHECK(back == text);
        CHECK(parallel == ids);
        const auto s = [](auto a, auto b) { return std::chrono::duration<double>(b - a).count(); };
        // encode_parallel only splits texts over 2 MB, so here it checks equality, not speed.
        std::printf("bpe vocab %d (%zu merges): train %.2f s, encode %.0f tokens/s (%.2f MB/s), "
                    "decode %.0f tokens/s, %zu tokens, %.3f bytes/token\n",
                    tokenizer->vocab_size(), tokenizer->merges().size(), s(t0, t1), double(ids.size()) / s(t1, t2),
                    double(text.size()) / s(t1, t2) / 1e6, double(ids.size()) / s(t3, t4), ids.size(),
                    double(text.size()) / double(ids.size()));
    }
}
