#include "cli/interop_commands.h"

#include <CLI/CLI.hpp>

#include "cli/options.h"

#include <cstdio>

namespace gpt {

void add_import_options(CLI::App& command, ImportCommandOptions& o) {
    CLI::App* c = &command;
    c->add_option("dir", o.dir, "folder with config.json, model.safetensors and (usually) vocab.json + merges.txt")->required();
    c->add_option("out", o.out, "checkpoint to write (.h5)")->required();
    c->add_option("--tokenizer_files", o.options.tokenizer_files, "GPT-2 tokenizer files when DIR has none");
    c->add_option("--block_size", o.options.block_size, "keep only the first N positions (shorter context, less memory)");
    c->add_option("--vocab_pad", o.options.vocab_pad, "pad the vocabulary to a multiple of N (64: 50257 -> 50304); padded ids get no probability");
    add_bool_option(command, "--overwrite", o.options.overwrite, "replace OUT even when it is a run's checkpoint");
}

void add_export_options(CLI::App& command, ExportCommandOptions& o) {
    CLI::App* c = &command;
    c->add_option("checkpoint", o.checkpoint, "checkpoint file or run folder")->required();
    c->add_option("out_dir", o.out_dir, "folder to write config.json + model.safetensors into")->required();
    c->add_option("--format", o.format, "hf | safetensors")->required()->check(CLI::IsMember({"hf", "safetensors"}));
}

int run_import(const ImportCommandOptions& o) {
    std::printf("%s\n", import_hf_gpt2(o.dir, o.out, o.options).c_str());
    return 0;
}

int run_export(const ExportCommandOptions& o) {
    std::printf("%s\n", export_checkpoint(o.checkpoint, o.format, o.out_dir).c_str());
    return 0;
}

}  // namespace gpt
