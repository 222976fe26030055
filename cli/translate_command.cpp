#include "cli/translate_command.h"

#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "checkpoint/encoder_decoder_file.h"
#include "checkpoint/model_file.h"
#include "cli/options.h"
#include "common/threads.h"
#include "data/parallel_corpus.h"
#include "generate/seq2seq.h"

namespace gpt {

void add_translate_options(CLI::App& command, TranslateOptions& options) {
    add_text_option(command, "--checkpoint", options.checkpoint,
                    "model = transformer checkpoint file or run folder (its ckpt.h5)")
        ->type_name("PATH")
        ->required();
    add_text_option(command, "--text", options.text, "the source text")->required();
    add_int_option(command, "--beam", options.beam, "beam width; 1 = greedy decoding");
    add_float_option(command, "--length_penalty", options.length_penalty,
                     "beam search: rank hypotheses by log p / length^A (0 = raw log p, 1 = per token)");
    add_int_option(command, "--max_new_tokens", options.max_new_tokens,
                   "at most this many output tokens; 0 = the decoder's context (block_size - 1)");
    add_int_option(command, "--threads", options.threads, "worker threads; 0 = OMP_NUM_THREADS or the physical cores");
}

int run_translate(const TranslateOptions& options) {
    if (options.beam < 1) throw std::invalid_argument("--beam must be >= 1, got " + std::to_string(options.beam));
    if (!std::isfinite(options.length_penalty))
        throw std::invalid_argument("--length_penalty must be finite");
    if (options.max_new_tokens < 0)
        throw std::invalid_argument("--max_new_tokens must not be negative, got " + std::to_string(options.max_new_tokens));
    configure_threads(options.threads);
    const std::string path = resolve_checkpoint_path(options.checkpoint);
    const LoadedEncoderDecoder loaded = load_encoder_decoder(path);
    std::vector<int32_t> source;
    try {
        source = loaded.tokenizer->encode(options.text);
    } catch (const std::exception& e) {  // a character the checkpoint's char vocabulary lacks
        throw std::invalid_argument("--text cannot be encoded with " + path + "'s tokenizer: " + e.what());
    }
    const int64_t S = static_cast<int64_t>(source.size()), context = loaded.config.source_block_size;
    if (S == 0) throw std::invalid_argument("--text is empty");
    if (S > context)
        throw std::invalid_argument("--text is " + std::to_string(S) + " tokens, longer than the encoder's context (" +
                                    std::to_string(context) + " tokens, source_block_size of " + path + ")");
    const Seq2SeqVocabulary vocabulary{loaded.tokenizer->vocab_size()};
    Seq2SeqOptions decoding;
    decoding.bos = vocabulary.bos();
    decoding.eos = vocabulary.eos();
    decoding.beam_width = options.beam;
    decoding.length_penalty = options.length_penalty;
    const int64_t most = loaded.config.target_block_size - 1;
    decoding.max_new_tokens = options.max_new_tokens > 0 ? std::min(options.max_new_tokens, most) : most;
    const Hypothesis best = options.beam == 1 ? greedy_decode(*loaded.model, source, decoding)
                                              : beam_search(*loaded.model, source, decoding).front();
    const std::string text = decode_target(*loaded.tokenizer, best.tokens);
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fputc('\n', stdout);
    std::fprintf(stderr, "log p %.4f, %zu tokens%s\n", best.log_prob, best.tokens.size(),
                 best.finished ? "" : " (cut at max_new_tokens: no eos)");
    return 0;
}

}  // namespace gpt
