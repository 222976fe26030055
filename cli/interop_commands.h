// `gpt import` and `gpt export` (interop/gpt2_interop.h) as CLI11 subcommands.
#pragma once

#include <CLI/CLI.hpp>

#include "interop/gpt2_interop.h"

namespace gpt {

struct ImportCommandOptions {
    std::string dir, out;
    ImportOptions options;
};
struct ExportCommandOptions {
    std::string checkpoint, format, out_dir;
};

CLI::App* add_import_command(CLI::App& app, ImportCommandOptions& options);
CLI::App* add_export_command(CLI::App& app, ExportCommandOptions& options);
int run_import(const ImportCommandOptions& options);
int run_export(const ExportCommandOptions& options);

}  // namespace gpt
