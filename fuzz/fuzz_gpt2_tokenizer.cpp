// libFuzzer target: GPT-2's tokenizer files (data/gpt2_tokenizer.h Gpt2Tokenizer::from_files) from
// arbitrary bytes: the input is split at its first NUL byte into encoder.json and vocab.bpe. Deep JSON,
// ids out of range, merges naming unknown tokens, truncated merge lists (issue 27) must each be one
// std::runtime_error or std::invalid_argument; a tokenizer that loads must round-trip a fixed text.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>

#include "data/gpt2_tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const std::filesystem::path dir = [] {
        auto d = std::filesystem::temp_directory_path() / ("fuzz_gpt2_tokenizer_" + std::to_string(::getpid()));
        std::filesystem::create_directories(d);
        return d;
    }();
    const std::string input(reinterpret_cast<const char*>(data), size);
    const size_t split = input.find('\0');
    std::ofstream(dir / "encoder.json", std::ios::trunc) << input.substr(0, split);
    std::ofstream(dir / "vocab.bpe", std::ios::trunc) << (split == std::string::npos ? "" : input.substr(split + 1));
    try {
        const auto tokenizer = gpt::Gpt2Tokenizer::from_files(dir);
        const std::string text = "Hello, world! 123";
        if (tokenizer->decode(tokenizer->encode(text)) != text) {
            std::fprintf(stderr, "a loaded GPT-2 tokenizer does not round-trip\n");
            std::abort();
        }
    } catch (const std::exception&) {
        // refused files, or text the vocabulary cannot encode
    }
    return 0;
}
