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

}  // namespace gpt
