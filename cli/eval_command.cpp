#include "cli/eval_command.h"

#include <cmath>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <optional>
#include <stdexcept>

#include "cli/options.h"
#include "data/corpus.h"
#include "data/masked_lm.h"
#include "data/prepare.h"
#include "checkpoint/model_file.h"
#include "evaluate/evaluate.h"
#include "common/threads.h"

namespace gpt {

void add_eval_options(CLI::App& command, EvalOptions& options) {
    add_text_option(command, "--checkpoint", options.checkpoint, "checkpoint file or run folder (its ckpt.h5)")
        ->type_name("PATH")
        ->required();
    add_text_option(command, "--data", options.data, "text file or folder of text files to evaluate on")
        ->type_name("PATH")
        ->required();
    add_int_option(command, "--max_tokens", options.max_tokens, "use only the first N token ids; 0 = all");
    add_bool_option(command, "--masked_accuracy", options.masked_accuracy,
                    "gpt checkpoints: also the accuracy on the positions a bert checkpoint is scored on (15 % of the "
                    "tokens, fixed seed), each predicted from its left context; a bert checkpoint always reports it");
    add_int_option(command, "--threads", options.threads, "worker threads; 0 = OMP_NUM_THREADS or the physical cores");
}

int run_eval(const EvalOptions& options) {
    if (options.max_tokens < 0)
        throw std::invalid_argument("--max_tokens must not be negative, got " + std::to_string(options.max_tokens));
    configure_threads(options.threads);
    const std::string checkpoint = resolve_checkpoint_path(options.checkpoint);
    LoadedCheckpoint loaded = load_checkpoint(checkpoint);
    const Corpus corpus = read_corpus(options.data);
    std::vector<int32_t> ids;
    for (size_t d = 0; d < corpus.documents.size(); ++d) {
        if (d > 0 && loaded.tokenizer->end_of_text_id()) ids.push_back(*loaded.tokenizer->end_of_text_id());
        std::vector<int32_t> part;
        try {
            part = encode_parallel(*loaded.tokenizer, corpus.documents[d].text);
        } catch (const std::exception& e) {  // e.g. a character the checkpoint's char vocabulary lacks
            throw std::runtime_error(corpus.documents[d].path.string() + ": cannot be encoded with " + checkpoint +
                                     "'s tokenizer: " + e.what());
        }
        ids.insert(ids.end(), part.begin(), part.end());
    }
    if (options.max_tokens > 0 && static_cast<int64_t>(ids.size()) > options.max_tokens)
        ids.resize(static_cast<size_t>(options.max_tokens));
    const bool bert = loaded.model_config.bidirectional();
    WindowEvaluation result;
    std::optional<MaskedEvaluation> masked;
    try {
        if (bert || options.masked_accuracy) {
            const MaskedLmTokens special =
                bert ? MaskedLmTokens::of(*loaded.tokenizer) : MaskedLmTokens::ordinary_of(*loaded.tokenizer);
            masked = evaluate_masked(*loaded.model, TokenSpan(ids), special);
        }
        if (!bert) result = evaluate_windows(*loaded.model, TokenSpan(ids), loaded.model_config.block_size);
    } catch (const std::invalid_argument& e) {  // too little text for one window
        throw std::runtime_error(options.data + " (evaluated with " + checkpoint + "): " + e.what());
    }
    if (bert) result = {masked->loss, masked->tokens, masked->windows};
    // JSON has no NaN; a non-finite loss is not a result
    for (double loss : {result.loss, masked ? masked->loss : 0.0})
        if (!std::isfinite(loss))
            throw std::runtime_error(checkpoint + ": the loss on " + options.data + " is not finite (" +
                                     std::to_string(loss) + ")");
    std::string masked_fields;
    if (masked) {
        char text[160];
        if (!bert) {  // a bert's "loss" is already its masked loss
            std::snprintf(text, sizeof text, "\"masked_loss\": %.6f, ", masked->loss);
            masked_fields = text;
        }
        std::snprintf(text, sizeof text, "\"masked_accuracy\": %.6f, \"masked_tokens\": %lld, ", masked->accuracy,
                      (long long)masked->masked);
        masked_fields += text;
    }
    std::printf("{\"loss\": %.6f, %s\"tokens\": %lld, \"windows\": %lld}\n", result.loss, masked_fields.c_str(),
                (long long)result.tokens, (long long)result.windows);
    return 0;
}

}  // namespace gpt
