// `gpt import` and `gpt export` (interop/gpt2_interop.h) as CLI11 subcommands.
#pragma once

namespace CLI {
class App;
}

#include "interop/gpt2_interop.h"

namespace gpt {

struct ImportCommandOptions {
    std::string dir, out;
    ImportOptions options;
};
struct ExportCommandOptions {
    std::string checkpoint, format, out_dir;
};

void add_import_options(CLI::App& command, ImportCommandOptions& options);
void add_export_options(CLI::App& command, ExportCommandOptions& options);
int run_import(const ImportCommandOptions& options);
int run_export(const ExportCommandOptions& options);

}  // namespace gpt
