// `gpt fill --checkpoint PATH --text "To be or [MASK] to be" [--top K]`: a bert checkpoint's guesses for
// each [MASK] of the text (generate/fill.h): one line per mask naming it, then one line per candidate
// with its probability, most probable first. The literal "[MASK]" is the only way to write the mask.
#pragma once

#include <cstdint>
#include <string>

namespace CLI {
class App;
}

namespace gpt {

struct FillOptions {
    std::string checkpoint;
    std::string text;
    int64_t top = 5;
    int64_t threads = 0;
};

void add_fill_options(CLI::App& command, FillOptions& options);
int run_fill(const FillOptions& options);

}  // namespace gpt
