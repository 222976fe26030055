// `gpt eval --checkpoint PATH --data TEXTFILE [--max_tokens N]`: prints one JSON line
// {"loss": ..., "tokens": ..., "windows": ...} — the mean next-token cross-entropy (nats) over
// consecutive non-overlapping windows of block_size inputs, dropout off.
// A bert checkpoint (model = bert): {"loss": ..., "masked_accuracy": ..., "masked_tokens": ..., "tokens": ...,
// "windows": ...} — the masked-LM loss and the masked-token accuracy with evaluation's fixed masking
// (evaluate/evaluate.h evaluate_masked). --masked_accuracy on a gpt checkpoint adds "masked_loss",
// "masked_accuracy" and "masked_tokens": the same positions predicted from their left context alone.
// A model = transformer checkpoint: {"loss": ..., "tokens": ..., "examples": ..., "exact_match": ...,
// "correct": ...} — the mean per-token cross-entropy of the targets (eos included) and the share of
// greedy outputs equal to their target, on the held-out lines of the run's corpus (its data and
// val_fraction), or on every line of --data FILE.tsv.
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
    int64_t max_examples = 0;  // model = transformer: 0 = all
    int64_t threads = 0;
    bool masked_accuracy = false;  // gpt: also score the masked positions a bert is scored on
};

void add_eval_options(CLI::App& command, EvalOptions& options);
int run_eval(const EvalOptions& options);

}  // namespace gpt
