#include "train/text_sample.h"

#include <cstdio>

#include "generate/generate.h"

namespace gpt {

void print_end_of_training_sample(GPT& model, const Tokenizer& tokenizer, const TrainConfig& config) {
    model.eval();
    GenerateOptions options;
    options.max_new_tokens = config.sample_tokens;
    options.sampling.temperature = 0.8f;
    options.sampling.top_k = 40;
    Generator generator(static_cast<uint64_t>(config.seed));
    std::fprintf(stderr, "--- sample (%lld tokens, temperature 0.8, top-k 40) ---\n", (long long)config.sample_tokens);
    generate(model, tokenizer, default_prompt(tokenizer), options, generator, [](std::string_view text) {
        std::fwrite(text.data(), 1, text.size(), stdout);
        std::fflush(stdout);
    });
    std::fputc('\n', stdout);
    std::fflush(stdout);
    model.train();
}

std::string evaluation_sample(GPT& model, const Tokenizer& tokenizer, int64_t tokens, int64_t seed, int64_t step) {
    model.eval();
    GenerateOptions options;
    options.max_new_tokens = tokens;
    options.sampling.temperature = 0.8f;
    options.sampling.top_k = 40;
    // A stream of its own: splitmix-style mix of the run seed and the step.
    Generator generator(static_cast<uint64_t>(seed) * 0x9E3779B97F4A7C15ULL + static_cast<uint64_t>(step) + 1);
    std::string text;
    generate(model, tokenizer, default_prompt(tokenizer), options, generator,
             [&text](std::string_view piece) { text.append(piece); });
    model.train();
    return valid_utf8(text);
}

std::string valid_utf8(std::string_view bytes) {
    std::string out;
    size_t i = 0;
    while (i < bytes.size()) {
        const auto b = static_cast<unsigned char>(bytes[i]);
        // Sequence length from the lead byte; overlong forms, surrogates and > U+10FFFF are rejected by
        // the allowed range of the second byte (RFC 3629's table).
        size_t n = 0;
        unsigned char lo = 0x80, hi = 0xBF;
        if (b < 0x80) n = 1;
        else if (b >= 0xC2 && b <= 0xDF) n = 2;
        else if (b == 0xE0) n = 3, lo = 0xA0;
        else if (b >= 0xE1 && b <= 0xEC) n = 3;
        else if (b == 0xED) n = 3, hi = 0x9F;
        else if (b >= 0xEE && b <= 0xEF) n = 3;
        else if (b == 0xF0) n = 4, lo = 0x90;
        else if (b >= 0xF1 && b <= 0xF3) n = 4;
        else if (b == 0xF4) n = 4, hi = 0x8F;
        bool ok = n > 0 && i + n <= bytes.size();
        for (size_t k = 1; ok && k < n; ++k) {
            const auto c = static_cast<unsigned char>(bytes[i + k]);
            ok = k == 1 ? (c >= lo && c <= hi) : (c >= 0x80 && c <= 0xBF);
        }
        if (ok) {
            out.append(bytes.substr(i, n));
            i += n;
        } else {
            out += "\xEF\xBF\xBD";  // U+FFFD
            ++i;
        }
    }
    return out;
}

}  // namespace gpt
