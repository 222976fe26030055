// One shape for every subcommand of build/gpt: a name, a line of help, and `add`, which registers the
// command's options on its CLI::App (bound to options it owns) and returns what runs the command once
// the command line is parsed. cli/main.cpp loops over the table (cli/commands.cpp); a new subcommand is
// one file here and one row there.
#pragma once

#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace gpt {

struct Subcommand {
    std::string name;
    std::string help;
    std::function<std::function<int()>(CLI::App& command)> add;
};

// The common case: the options are one struct that add_options binds and run reads.
template <class Options>
Subcommand make_subcommand(std::string name, std::string help, void (*add_options)(CLI::App&, Options&),
                           int (*run)(const Options&)) {
    return {std::move(name), std::move(help), [add_options, run](CLI::App& command) {
                auto options = std::make_shared<Options>();
                add_options(command, *options);
                return std::function<int()>([options, run] { return run(*options); });
            }};
}

// Thrown by a command when what the user gave is unusable before any work starts (a config file that
// does not parse): reported like a command-line error, "error: ..." and exit code 2.
struct UsageError : std::invalid_argument {
    using std::invalid_argument::invalid_argument;
};

// Every subcommand, in the order `gpt --help` lists them.
const std::vector<Subcommand>& subcommands();

}  // namespace gpt
