// `gpt eval --checkpoint PATH --data TEXTFILE [--max_tokens N]`: prints one JSON line
// {"loss": ..., "tokens": ..., "windows": ...} — the mean next-token cross-entropy (nats) over
// consecutive non-overlapping windows of block_size inputs, dropout off.
#pragma once

#include <cstdint>
#include <string>

namespace CLI {
class App;
}

namespace gpt {

struct EvalOptions {
    std::string checkpoint;
    std::string data;
    int64_t max_tokens = 0;  // 0: all
    int64_t threads = 0;
};

void add_eval_options(CLI::App& command, EvalOptions& options);
int run_eval(const EvalOptions& options);

}  // namespace gpt
