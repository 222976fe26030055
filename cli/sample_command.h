// `gpt sample --checkpoint PATH [--prompt TEXT | --prompt_file F] [--max_new_tokens N] [--temperature T]
//             [--top_k K] [--top_p P] [--seed S] [--num_samples M] [--repetition_penalty R] [--stop TEXT]
//             [--show_probs BOOL] [--threads N] [--weights float32|bf16]`
//
// Standard output carries only text: for each sample the prompt, then the generated text as it is
// produced (whole UTF-8 characters, flushed token by token), samples separated by a blank line.
// Everything else (what was loaded, speed, --show_probs lines, errors) goes to standard error.
// Same checkpoint, options and seed → same text (one Generator seeded once, samples drawn in turn).
#pragma once

#include <cstdint>
#include <string>

#include "generate/sampling.h"

namespace CLI {
class App;
}

namespace gpt {

struct SampleOptions {
    std::string checkpoint;   // checkpoint file or run folder (its ckpt.h5)
    std::string prompt;
    std::string prompt_file;
    int64_t max_new_tokens = 200;
    SamplingOptions sampling;  // temperature, top_k, top_p, repetition_penalty (generate/sampling.h)
    int64_t seed = 1337;
    int64_t num_samples = 1;
    std::string stop;
    bool show_probs = false;
    int64_t threads = 0;  // 0: OMP_NUM_THREADS or the physical core count
    std::string weights = "float32";  // or "bf16": generate from bf16 copies of the weights (nn/gpt.h WeightFormat)

    // Throws std::invalid_argument naming the first bad option and its value.
    void validate() const;
};

void add_sample_options(CLI::App& command, SampleOptions& options);
int run_sample(const SampleOptions& options);

}  // namespace gpt
