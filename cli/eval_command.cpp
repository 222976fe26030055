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
#include "checkpoint/encoder_decoder_file.h"
#include "checkpoint/model_file.h"
#include "data/parallel_corpus.h"
#include "evaluate/encoder_decoder_loss.h"
#include "evaluate/evaluate.h"
#include "generate/exact_match.h"
#include "train/checkpoint.h"
#include "common/threads.h"

namespace gpt {

void add_eval_options(CLI::App& command, EvalOptions& options) {
    add_text_option(command, "--checkpoint", options.checkpoint, "checkpoint file or run folder (its ckpt.h5)")
        ->type_name("PATH")
        ->required();
    add_text_option(command, "--data", options.data,
                    "text file or folder of text files to evaluate on (required); model = transformer: a file of "
                    "source<TAB>target lines, default the held-out lines of the run's corpus")
        ->type_name("PATH");
    add_int_option(command, "--max_tokens", options.max_tokens, "use only the first N token ids; 0 = all");
    add_bool_option(command, "--masked_accuracy", options.masked_accuracy,
                    "gpt checkpoints: also the accuracy on the positions a bert checkpoint is scored on (15 % of the "
                    "tokens, fixed seed), each predicted from its left context; a bert checkpoint always reports it");
    add_int_option(command, "--max_examples", options.max_examples,
                   "model = transformer: use only the first N pairs; 0 = all");
    add_int_option(command, "--threads", options.threads, "worker threads; 0 = OMP_NUM_THREADS or the physical cores");
}

namespace {

// model = transformer: loss and greedy exact match on the pairs (eval mode throughout).
int run_encoder_decoder_eval(const EvalOptions& options, const std::string& checkpoint) {
    LoadedEncoderDecoder loaded = load_encoder_decoder(checkpoint);
    const TrainConfig run = stored_train_config(loaded.train_config_toml, checkpoint);
    const Seq2SeqVocabulary vocabulary{loaded.tokenizer->vocab_size()};
    const ParallelCorpusLimits limits{loaded.config.source_block_size, loaded.config.target_block_size};
    std::vector<ParallelExample> examples;
    if (options.data.empty()) {
        if (run.data.empty()) throw std::invalid_argument(checkpoint + " stores no corpus: give --data FILE.tsv");
        examples = split_held_out(read_parallel_corpus(run.data, *loaded.tokenizer, limits), run.val_fraction, run.data)
                       .held_out;
    } else {
        examples = read_parallel_corpus(options.data, *loaded.tokenizer, limits);
    }
    if (options.max_examples > 0 && static_cast<int64_t>(examples.size()) > options.max_examples)
        examples.resize(static_cast<size_t>(options.max_examples));
    const EncoderDecoderLoss loss = encoder_decoder_loss(*loaded.model, examples, vocabulary, run.batch_size);
    if (!std::isfinite(loss.loss))
        throw std::runtime_error(checkpoint + ": the loss is not finite (" + std::to_string(loss.loss) + ")");
    const ExactMatch match = exact_match(*loaded.model, examples, vocabulary);
    std::printf("{\"loss\": %.6f, \"tokens\": %lld, \"examples\": %lld, \"exact_match\": %.6f, \"correct\": %lld}\n",
                loss.loss, (long long)loss.tokens, (long long)loss.examples, match.accuracy(), (long long)match.correct);
    return 0;
}

}  // namespace

int run_eval(const EvalOptions& options) {
    if (options.max_tokens < 0)
        throw std::invalid_argument("--max_tokens must not be negative, got " + std::to_string(options.max_tokens));
    if (options.max_examples < 0)
        throw std::invalid_argument("--max_examples must not be negative, got " + std::to_string(options.max_examples));
    configure_threads(options.threads);
    const std::string checkpoint = resolve_checkpoint_path(options.checkpoint);
    if (checkpoint_model_kind(checkpoint) == "transformer") return run_encoder_decoder_eval(options, checkpoint);
    if (options.data.empty()) throw std::invalid_argument("--data is required");
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
