#include "cli/sample_command.h"

#include "common/regular_file.h"

#include <CLI/CLI.hpp>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "cli/options.h"
#include "common/text.h"
#include "data/token_display.h"
#include "checkpoint/model_file.h"
#include "generate/generate.h"
#include "common/threads.h"

namespace gpt {

namespace {

constexpr int64_t kShownCandidates = 5;

// 0.8f as people type it (0.8), not as the double it widens to (0.800000011920929).
double as_typed(float value) {
    char buffer[32];
    const auto [end, error] = std::to_chars(buffer, buffer + sizeof buffer, value);
    return error == std::errc() ? parse_double(std::string(buffer, end)) : value;
}

// Every option of generate/sampling.h's table, as --name.
void add_sampling_options(CLI::App& command, SamplingOptions& s) {
    for (const SamplingField& f : sampling_fields()) {
        const std::string name = std::string("--") + f.name;
        if (f.integer) {
            add_int_option(command, name, s.*f.integer, f.help);
            continue;
        }
        add_float_option(command, name, [&s, member = f.number](double v) { s.*member = static_cast<float>(v); },
                         as_typed(s.*f.number), f.help);
    }
}

std::string read_prompt_file(const std::string& path) {
    // Not a directory (an ifstream reads nothing from it), FIFO or device; and at most 1 MiB: a prompt
    // longer than that is far past any block_size.
    require_regular_file(path, "--prompt_file", 1 << 20);
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("--prompt_file: cannot open '" + path + "'");
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// A token's bytes as a quoted, one-line label: '\n' and other control bytes escaped, and bytes that are
// not whole UTF-8 characters (half of one, from a BPE token) shown as \xNN.
std::string quote_token(std::string_view bytes) { return "'" + printable_token(bytes, true) + "'"; }

const char* reason_name(StopReason reason) {
    switch (reason) {
        case StopReason::max_new_tokens: return "max_new_tokens";
        case StopReason::end_of_text: return "<|endoftext|>";
        case StopReason::stop_text: return "stop text";
    }
    return "";
}

}  // namespace

void SampleOptions::validate() const {
    if (checkpoint.empty()) throw std::invalid_argument("--checkpoint is required");
    if (!prompt.empty() && !prompt_file.empty())
        throw std::invalid_argument("--prompt and --prompt_file cannot be used together");
    if (max_new_tokens < 0)
        throw std::invalid_argument("--max_new_tokens must be >= 0, got " + std::to_string(max_new_tokens));
    if (num_samples < 1) throw std::invalid_argument("--num_samples must be >= 1, got " + std::to_string(num_samples));
    if (seed < 0) throw std::invalid_argument("--seed must not be negative, got " + std::to_string(seed));
    if (threads < 0) throw std::invalid_argument("--threads must not be negative, got " + std::to_string(threads));
    parse_weight_format(weights, "--weights");
    sampling.validate();
}

void add_sample_options(CLI::App& command, SampleOptions& o) {
    // nanoGPT's sample.py names the run folder out_dir.
    add_text_option(command, "--checkpoint,--out_dir", o.checkpoint, "checkpoint file or run folder (its ckpt.h5)")
        ->type_name("PATH")
        ->required();
    auto* prompt = add_text_option(command, "--prompt", o.prompt,
                                   "text to continue; empty = start from <|endoftext|> (BPE) or a newline (char)");
    auto* prompt_file = add_text_option(command, "--prompt_file", o.prompt_file, "read the prompt from this file")
                            ->type_name("FILE");
    prompt->excludes(prompt_file);
    add_int_option(command, "--max_new_tokens", o.max_new_tokens,
                   "tokens to generate per sample; past block_size the window slides (the model sees the last "
                   "block_size tokens, each further token re-feeds that window: slower)");
    add_sampling_options(command, o.sampling);
    add_int_option(command, "--seed", o.seed, "seed of every random draw: same seed, checkpoint and options, same text");
    add_int_option(command, "--num_samples", o.num_samples, "samples, separated by a blank line");
    add_text_option(command, "--stop", o.stop, "end a sample just before this text appears in the generated text");
    add_bool_option(command, "--show_probs", o.show_probs,
                    "print the top candidates and their probabilities (after temperature/top-k/top-p) for each "
                    "token to standard error");
    add_int_option(command, "--threads", o.threads, "worker threads; 0 = OMP_NUM_THREADS, else 1 for a model under 2 M parameters, else the physical cores");
    add_text_option(command, "--weights", o.weights,
                    "float32, or bf16: decode from a bf16 copy of the weights made at load (half the bytes read "
                    "per token: faster for large models; logits differ from float32's by ~1e-3 relative)")
        ->type_name("float32|bf16");
    command.footer("Generation uses a KV cache; when the context reaches block_size it slides (last block_size tokens).");
}

int run_sample(const SampleOptions& o) {
    o.validate();
    configure_threads(o.threads);
    const std::string path = resolve_checkpoint_path(o.checkpoint);
    LoadedCheckpoint loaded = load_checkpoint(path);
    if (loaded.model_config.bidirectional())
        throw std::runtime_error(path + " is a bert model (bidirectional, trained on masked tokens): it does not "
                                 "generate text; fill in [MASK] tokens with gpt fill --checkpoint " + o.checkpoint +
                                 " --text \"... [MASK] ...\"");
    const GPT& model = *loaded.model;
    const Tokenizer& tokenizer = *loaded.tokenizer;
    loaded.model->eval();
    loaded.model->set_inference_weights(parse_weight_format(o.weights, "--weights"));
    // A token of a small model is too little work to share: below 2 M parameters every step is a few
    // matrix-vector products whose barriers cost more than a second thread gives. Measured on the 2-core
    // VM while other people's builds ran (load 6-8), baby shape (0.8 M parameters): 1 thread 480-570
    // tokens/s, 2 threads 277-298; at 3.2 M and 10.7 M parameters 1 and 2 threads were equal. So the
    // default (no --threads, no OMP_NUM_THREADS) is 1 thread there.
    if (o.threads == 0 && !std::getenv("OMP_NUM_THREADS") && model.parameter_count() < 2'000'000) configure_threads(1);

    const std::string prompt_text = o.prompt_file.empty() ? o.prompt : read_prompt_file(o.prompt_file);
    const std::vector<int32_t> prompt = encode_prompt(tokenizer, prompt_text, loaded.model_config.block_size);
    std::fprintf(stderr,
                 "loaded %s: %lld parameters (%s weights), %s tokenizer (%d tokens), block_size %lld; prompt %zu tokens\n",
                 path.c_str(), static_cast<long long>(model.parameter_count()), weight_format_name(model.inference_weights()),
                 tokenizer.type().c_str(), tokenizer.vocab_size(), static_cast<long long>(loaded.model_config.block_size),
                 prompt.size());

    GenerateOptions options;
    options.max_new_tokens = o.max_new_tokens;
    options.sampling = o.sampling;
    options.stop = o.stop;
    options.show_probs = o.show_probs ? kShownCandidates : 0;

    auto print = [](std::string_view text) {
        std::fwrite(text.data(), 1, text.size(), stdout);
        std::fflush(stdout);
    };
    auto show = [&](int32_t id, const std::vector<Candidate>& candidates) {
        if (!o.show_probs) return;
        std::string line = "[probs]";
        for (const Candidate& c : candidates) {
            char probability[32];
            std::snprintf(probability, sizeof probability, " %.4f", static_cast<double>(c.probability));
            line += "  " + quote_token(tokenizer.token_bytes(c.id)) + probability;
        }
        line += "  -> " + quote_token(tokenizer.token_bytes(id)) + "\n";
        std::fflush(stdout);  // keep the two streams in order on a terminal
        std::fputs(line.c_str(), stderr);
    };

    Generator generator(static_cast<uint64_t>(o.seed));
    for (int64_t s = 0; s < o.num_samples; ++s) {
        if (s > 0) print("\n");  // the blank line between samples
        print(prompt_text);
        const auto start = std::chrono::steady_clock::now();
        const GenerateResult result = generate(model, tokenizer, prompt, options, generator, print, show);
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        const std::string& last_text = result.text.empty() ? prompt_text : result.text;
        if (last_text.empty() || last_text.back() != '\n') print("\n");
        std::fprintf(stderr, "[sample %lld/%lld: %zu tokens in %.2f s (%.1f tokens/s), stopped at %s]\n",
                     static_cast<long long>(s + 1), static_cast<long long>(o.num_samples), result.tokens.size(),
                     seconds, seconds > 0 ? static_cast<double>(result.tokens.size()) / seconds : 0.0,
                     reason_name(result.reason));
    }
    return 0;
}

}  // namespace gpt
