// `gpt translate --checkpoint RUN --text "..." [--beam N --length_penalty A]`: the output of a
// model = transformer checkpoint (nn/encoder_decoder.h) for one source text, on one line of stdout.
// Greedy by default; --beam N > 1 runs beam search (generate/seq2seq.h) and --length_penalty α ranks its
// hypotheses by log p / length^α. stderr gets the output's log-probability and length.
#pragma once

#include <cstdint>
#include <string>

namespace CLI {
class App;
}

namespace gpt {

struct TranslateOptions {
    std::string checkpoint;
    std::string text;
    int64_t beam = 1;
    double length_penalty = 1.0;
    int64_t max_new_tokens = 0;  // 0: the decoder's context (block_size − 1)
    int64_t threads = 0;
};

void add_translate_options(CLI::App& command, TranslateOptions& options);
int run_translate(const TranslateOptions& options);

}  // namespace gpt
