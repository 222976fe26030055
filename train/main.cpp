// build/gpt: the command-line program. Subcommands: train, sample, eval, prepare, report, graph, import, export.
//
// Config files: CLI11 2.1.2 ignores a config file registered on a subcommand (CLIUtils/CLI11#1056), so
// --config lives on the main app, `train` falls through to it, and the file's options sit under a
// [train] table. The file is linted first (train/config.h) so that a syntax error or unknown key is
// reported with its line number instead of CLI11's generic message.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

#include <unistd.h>

#include "data/prepare.h"
#include "interop/commands.h"
#include "train/config.h"
#include "train/eval_command.h"
#include "train/graph.h"
#include "train/report_command.h"
#include "train/sample_command.h"
#include "train/threads.h"
#include "train/trainer.h"

namespace {

// The value of --config in argv, if any ("--config F" or "--config=F").
std::string config_argument(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--config") == 0 && i + 1 < argc) return argv[i + 1];
        if (std::strncmp(argv[i], "--config=", 9) == 0) return argv[i] + 9;
    }
    return "";
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"gpt: train small GPT language models on a CPU, from scratch, with a readable autograd tape"};
    app.require_subcommand(1);
    app.set_config("--config", "", "TOML config file; options go under a [train] table (see configs/)");
    app.allow_config_extras(CLI::config_extras_mode::error);

    gpt::TrainConfig train_config;
    CLI::App* train = app.add_subcommand("train", "pretrain a GPT on a text file or folder (see configs/)");
    train->fallthrough();
    gpt::add_config_options(*train, train_config);

    gpt::SampleOptions sample_options;
    CLI::App* sample = app.add_subcommand("sample", "generate text from a checkpoint (KV cache, top-k/top-p)");
    gpt::add_sample_options(*sample, sample_options);

    gpt::EvalOptions eval_options;
    CLI::App* eval = app.add_subcommand("eval", "mean next-token loss of a checkpoint on a text file (one JSON line)");
    gpt::add_eval_options(*eval, eval_options);

    gpt::ReportCommandOptions report_options;
    CLI::App* report = app.add_subcommand("report", "write RUN_DIR/report.html: loss, gradient flow, attention maps");
    gpt::add_report_options(*report, report_options);

    gpt::GraphOptions graph_options;
    CLI::App* graph = app.add_subcommand("graph", "write the autograd tape of a tiny model as Graphviz DOT (+ SVG)");
    gpt::add_graph_options(*graph, graph_options);

    gpt::ImportCommandOptions import_options;
    CLI::App* import_command = gpt::add_import_command(app, import_options);
    gpt::ExportCommandOptions export_options;
    CLI::App* export_command = gpt::add_export_command(app, export_options);

    try {
        const std::string config_path = config_argument(argc, argv);
        if (!config_path.empty()) gpt::lint_config_file(config_path);
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        // --help and --version print as CLI11 does; a usage error is one "error:" line like every other.
        if (e.get_exit_code() == 0) return app.exit(e);
        std::fprintf(stderr, "error: %s (see gpt --help)\n", e.what());
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 2;
    }

    try {
        if (train->parsed()) {
            auto given = [train](const std::string& name) { return train->get_option("--" + name)->count() > 0; };
            return gpt::run_train(train_config, given);
        }
        if (sample->parsed()) return gpt::run_sample(sample_options);
        if (eval->parsed()) return gpt::run_eval(eval_options);
        if (report->parsed()) return gpt::run_report(report_options);
        if (graph->parsed()) return gpt::run_graph(graph_options);
        if (import_command->parsed()) return gpt::run_import(import_options);
        if (export_command->parsed()) return gpt::run_export(export_options);
    } catch (const std::exception& e) {
        // On a terminal the progress display may have left a line open: end it. In a log, one line.
        std::fprintf(stderr, "%serror: %s\n", isatty(STDERR_FILENO) ? "\n" : "", e.what());
        return 1;
    }
    return 0;
}
