#include "cli/eval_command.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <stdexcept>

#include "cli/options.h"
#include "data/corpus.h"
#include "data/prepare.h"
#include "train/checkpoint.h"
#include "train/evaluate.h"
#include "train/threads.h"

namespace gpt {

void add_eval_options(CLI::App& command, EvalOptions& options) {
    add_text_option(command, "--checkpoint", options.checkpoint, "checkpoint file or run folder (its ckpt.h5)")
        ->type_name("PATH")
        ->required();
    add_text_option(command, "--data", options.data, "text file or folder of text files to evaluate on")
        ->type_name("PATH")
        ->required();
    add_int_option(command, "--max_tokens", options.max_tokens, "use only the first N token ids; 0 = all");
    add_int_option(command, "--threads", options.threads, "worker threads; 0 = OMP_NUM_THREADS or the physical cores");
}

int run_eval(const EvalOptions& options) {
    if (options.max_tokens < 0)
        throw std::invalid_argument("--max_tokens must not be negative, got " + std::to_string(options.max_tokens));
    configure_threads(options.threads);
    LoadedCheckpoint loaded = load_checkpoint(resolve_checkpoint_path(options.checkpoint));
    const Corpus corpus = read_corpus(options.data);
    std::vector<int32_t> ids;
    for (size_t d = 0; d < corpus.documents.size(); ++d) {
        if (d > 0 && loaded.tokenizer->end_of_text_id()) ids.push_back(*loaded.tokenizer->end_of_text_id());
        const std::vector<int32_t> part = encode_parallel(*loaded.tokenizer, corpus.documents[d].text);
        ids.insert(ids.end(), part.begin(), part.end());
    }
    if (options.max_tokens > 0 && static_cast<int64_t>(ids.size()) > options.max_tokens)
        ids.resize(static_cast<size_t>(options.max_tokens));
    const WindowEvaluation result = evaluate_windows(*loaded.model, TokenSpan(ids), loaded.model_config.block_size);
    std::printf("{\"loss\": %.6f, \"tokens\": %lld, \"windows\": %lld}\n", result.loss, (long long)result.tokens,
                (long long)result.windows);
    return 0;
}

}  // namespace gpt
