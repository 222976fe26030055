// build/gpt: the command-line program. Subcommands (cli/commands.cpp): train, sample, eval, report,
// graph, serve, import, export; each has one shape (cli/subcommand.h).
//
// Options are declared through cli/options.h, so every subcommand reads the same: typed (INT, FLOAT,
// BOOL, TEXT), defaults as people type them, integers checked, one boolean convention.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <unistd.h>

#include "autograd/kernels/kernels.h"
#include "cli/options.h"
#include "cli/subcommand.h"
#include "common/threads.h"

#ifndef GPT_VERSION
#define GPT_VERSION "unknown"
#endif

namespace {

// A usage error ("error: ... (see gpt COMMAND --help)", exit 2); --help and --version print as CLI11 does.
int report_parse_error(const CLI::App& app, const CLI::ParseError& e, int argc, char** argv) {
    if (e.get_exit_code() == 0) return app.exit(e);
    const std::string command = gpt::subcommand_in(app, argc, argv);
    const std::string see = "(see gpt " + (command.empty() ? "" : command + " ") + "--help)";
    const std::string unknown = gpt::unknown_name_message(app, argc, argv);
    std::fprintf(stderr, "error: %s %s\n", unknown.empty() ? e.what() : unknown.c_str(), see.c_str());
    return 2;
}

// Runs the parsed subcommand. A failure is one "error:" line; on a terminal the progress display may
// have left a line open, so it is ended first. Usage errors exit 2, everything else 1.
int run_parsed(const std::vector<std::pair<CLI::App*, std::function<int()>>>& commands) {
    const char* fresh_line = isatty(STDERR_FILENO) ? "\n" : "";
    try {
        for (const auto& [command, run] : commands)
            if (command->parsed()) return run();
    } catch (const gpt::UsageError& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 2;
    } catch (const std::bad_alloc& e) {
        // Every loader and the training step name what they were doing; this is the last resort.
        std::fprintf(stderr, "%serror: out of memory (%s)\n", fresh_line, e.what());
        return 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%serror: %s\n", fresh_line, e.what());
        return 1;
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    gpt::choose_wait_policy(argv);  // may re-execute the program: before anything else (common/threads.h)
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

    std::vector<std::pair<CLI::App*, std::function<int()>>> commands;
    for (const gpt::Subcommand& subcommand : gpt::subcommands()) {
        CLI::App* command = app.add_subcommand(subcommand.name, subcommand.help);
        commands.emplace_back(command, subcommand.add(*command));
    }
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return report_parse_error(app, e, argc, argv);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 2;
    }
    return run_parsed(commands);
}
