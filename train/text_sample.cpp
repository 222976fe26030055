#include "train/text_sample.h"

#include <cstdio>

#include "data/utf8.h"
#include "generate/generate.h"

namespace gpt {

namespace {

// Both samples of a run: `tokens` tokens from the default prompt at temperature 0.8, top-k 40, in eval
// mode (no dropout); each piece of text goes to `sink`. Leaves the model in train mode.
void sample(GPT& model, const Tokenizer& tokenizer, int64_t tokens, Generator& generator,
            const TextCallback& sink) {
    model.eval();
    GenerateOptions options;
    options.max_new_tokens = tokens;
    options.sampling.temperature = 0.8f;
    options.sampling.top_k = 40;
    generate(model, tokenizer, default_prompt(tokenizer), options, generator, sink);
    model.train();
}

}  // namespace

void print_end_of_training_sample(GPT& model, const Tokenizer& tokenizer, const TrainConfig& config) {
    Generator generator(static_cast<uint64_t>(config.seed));
    std::fprintf(stderr, "--- sample (%lld tokens, temperature 0.8, top-k 40) ---\n", (long long)config.sample_tokens);
    sample(model, tokenizer, config.sample_tokens, generator, [](std::string_view text) {
        std::fwrite(text.data(), 1, text.size(), stdout);
        std::fflush(stdout);
    });
    std::fputc('\n', stdout);
    std::fflush(stdout);
}

std::string evaluation_sample(GPT& model, const Tokenizer& tokenizer, int64_t tokens, int64_t seed, int64_t step) {
    // A stream of its own: the run seed and the step mixed (golden-ratio multiplier), so training's
    // streams are untouched and a resumed run draws the same text.
    Generator generator(static_cast<uint64_t>(seed) * 0x9E3779B97F4A7C15ULL + static_cast<uint64_t>(step) + 1);
    std::string text;
    sample(model, tokenizer, tokens, generator, [&text](std::string_view piece) { text.append(piece); });
    return valid_utf8(text);
}

std::string valid_utf8(std::string_view bytes) {
    return utf8::encode(utf8::decode(bytes, utf8::OnInvalid::Replace));
}

}  // namespace gpt
