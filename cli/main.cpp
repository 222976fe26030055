// build/gpt: the command-line program. Subcommands: train, sample, eval, report, graph, serve, import, export.
//
// Options are declared through cli/options.h, so every subcommand reads the same: typed (INT, FLOAT,
// BOOL, TEXT), defaults as people type them, integers checked, one boolean convention.
//
// Config files: CLI11 2.1.2 ignores a config file registered on a subcommand (CLIUtils/CLI11#1056) and
// its own config reader mangles booleans and knows no line numbers, so `gpt train --config FILE` is an
// ordinary option and the file is read here (train/config.h): checked whole first (file:line: key in
// every message), then its keys fill what the command line did not set.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include <unistd.h>

#include "autograd/kernels/kernels.h"

#include "cli/eval_command.h"
#include "cli/graph_command.h"
#include "cli/interop_commands.h"
#include "cli/options.h"
#include "cli/report_command.h"
#include "cli/sample_command.h"
#include "cli/serve_command.h"
#include "report/report_html.h"
#include "serve/server.h"
#include "train/config.h"
#include "train/threads.h"
#include "train/trainer.h"

#ifndef GPT_VERSION
#define GPT_VERSION "unknown"
#endif

int main(int argc, char** argv) {
    gpt::choose_wait_policy(argv);  // may re-execute the program: before anything else (train/threads.h)
    CLI::App app{"gpt: train small GPT language models on a CPU, from scratch, with a readable autograd tape", "gpt"};
    app.require_subcommand(1);
    app.set_help_flag("-h,--help", "print this help and exit");  // before the subcommands: they copy it
    app.set_version_flag("--version", std::string("gpt ") + GPT_VERSION, "print the version and exit");
    app.add_flag_callback(
        "--kernels",
        [] {
            std::printf("%s\n", gpt::kernel_path_name());
            throw CLI::Success();
        },
        "print the kernel path chosen for this CPU (avx512, avx2 or portable; GPT_KERNELS forces one) and exit");

    gpt::TrainConfig train_config;
    std::string config_path;
    CLI::App* train = app.add_subcommand("train", "pretrain a GPT on a text file or folder (see configs/)");
    gpt::add_text_option(*train, "--config", config_path,
                         "TOML config file, options under a [train] table (see configs/); options given on "
                         "the command line override it")
        ->type_name("FILE");
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

    gpt::ServeOptions serve_options;
    CLI::App* serve = app.add_subcommand("serve", "a local web page over runs: training curves, the forward pass, backpropagation");
    gpt::add_serve_options(*serve, serve_options);

    gpt::ImportCommandOptions import_options;
    CLI::App* import_command = gpt::add_import_command(app, import_options);
    gpt::ExportCommandOptions export_options;
    CLI::App* export_command = gpt::add_export_command(app, export_options);

    auto given_on_command_line = [train](const std::string& name) {
        return train->get_option("--" + name)->count() > 0;
    };
    std::vector<std::string> config_keys;  // fields the config file sets
    try {
        app.parse(argc, argv);
        if (train->parsed() && !config_path.empty())
            config_keys = gpt::apply_config_file(train_config, config_path,
                                                 [&](const std::string& name) { return !given_on_command_line(name); });
    } catch (const CLI::ParseError& e) {
        // --help and --version print as CLI11 does; a usage error is one "error:" line like every other.
        if (e.get_exit_code() == 0) return app.exit(e);
        const std::string command = gpt::subcommand_in(app, argc, argv);
        const std::string see = "(see gpt " + (command.empty() ? "" : command + " ") + "--help)";
        const std::string unknown = gpt::unknown_name_message(app, argc, argv);
        std::fprintf(stderr, "error: %s %s\n", unknown.empty() ? e.what() : unknown.c_str(), see.c_str());
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 2;
    }

    try {
        if (train->parsed()) {
            // An option counts as given when the command line or the config file sets it (resume keeps
            // the checkpoint's value of every other option).
            auto given = [&](const std::string& name) {
                return given_on_command_line(name) ||
                       std::find(config_keys.begin(), config_keys.end(), name) != config_keys.end();
            };
            return gpt::run_train(train_config, given, gpt::report_hooks());
        }
        if (sample->parsed()) return gpt::run_sample(sample_options);
        if (eval->parsed()) return gpt::run_eval(eval_options);
        if (report->parsed()) return gpt::run_report(report_options);
        if (graph->parsed()) return gpt::run_graph(graph_options);
        if (serve->parsed()) return gpt::run_serve(serve_options);
        if (import_command->parsed()) return gpt::run_import(import_options);
        if (export_command->parsed()) return gpt::run_export(export_options);
    } catch (const std::bad_alloc& e) {
        // Every loader and the training step name what they were doing; this is the last resort.
        std::fprintf(stderr, "%serror: out of memory (%s)\n", isatty(STDERR_FILENO) ? "\n" : "", e.what());
        return 1;
    } catch (const std::exception& e) {
        // On a terminal the progress display may have left a line open: end it. In a log, one line.
        std::fprintf(stderr, "%serror: %s\n", isatty(STDERR_FILENO) ? "\n" : "", e.what());
        return 1;
    }
    return 0;
}
