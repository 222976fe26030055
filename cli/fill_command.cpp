#include "cli/fill_command.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <stdexcept>

#include "checkpoint/model_file.h"
#include "cli/options.h"
#include "common/threads.h"
#include "data/token_display.h"
#include "generate/fill.h"

namespace gpt {

void add_fill_options(CLI::App& command, FillOptions& options) {
    add_text_option(command, "--checkpoint", options.checkpoint, "checkpoint file or run folder (its ckpt.h5) of a bert model")
        ->type_name("PATH")
        ->required();
    add_text_option(command, "--text", options.text, "text with one or more [MASK] where tokens are to be filled in")
        ->required();
    add_int_option(command, "--top", options.top, "candidates shown per [MASK]");
    add_int_option(command, "--threads", options.threads, "worker threads; 0 = OMP_NUM_THREADS or the physical cores");
    command.footer("Write the mask as the literal text [MASK]; each mask is filled independently from one forward pass.");
}

int run_fill(const FillOptions& options) {
    if (options.top < 1) throw std::invalid_argument("--top must be >= 1, got " + std::to_string(options.top));
    if (options.threads < 0) throw std::invalid_argument("--threads must not be negative, got " + std::to_string(options.threads));
    configure_threads(options.threads);
    const std::string path = resolve_checkpoint_path(options.checkpoint);
    const LoadedCheckpoint loaded = load_checkpoint(path);
    if (!loaded.model_config.bidirectional())
        throw std::runtime_error(path + " is a " + loaded.model_config.kind + " model (causal): gpt fill needs a bert "
                                 "checkpoint (gpt train --model bert); a gpt model continues text with gpt sample");
    const FillResult result = fill_masks(*loaded.model, *loaded.tokenizer, options.text, options.top);
    std::printf("%s\n", options.text.c_str());
    for (size_t m = 0; m < result.masks.size(); ++m) {
        const MaskFill& mask = result.masks[m];
        std::printf("[MASK] %zu of %zu (token %lld of %zu):\n", m + 1, result.masks.size(),
                    static_cast<long long>(mask.position), result.ids.size() - 2);
        for (size_t c = 0; c < mask.candidates.size(); ++c)
            std::printf("  %2zu. %-14s %6.2f %%\n", c + 1,
                        ("'" + printable_token(loaded.tokenizer->token_bytes(mask.candidates[c].id), true) + "'").c_str(),
                        100.0 * static_cast<double>(mask.candidates[c].probability));
    }
    return 0;
}

}  // namespace gpt
