// One way to declare an option for every subcommand, so that all of them read the same:
//   --name TYPE   what it is, in which units (default X)
// TYPE is INT, FLOAT, BOOL or TEXT. Values go through the same parsers as the config files
// (train/config.h): integers out of range are refused (never clamped), doubles are printed as the
// shortest text that reads back the same (0.1), booleans accept true/false/1/0/yes/no in any case,
// as `--flag VALUE` or `--flag=VALUE`, and a bare `--flag` means true.
// A bad value is reported as "--name: why" (a CLI::ValidationError, so the usage-error path).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace CLI {
class App;
class Option;
}  // namespace CLI

namespace gpt {

struct TrainConfig;

// `names`: CLI11's comma-separated names, e.g. "--lr,--learning_rate". The default shown is the
// target's value when the option is added; an empty text default is not shown.
CLI::Option* add_int_option(CLI::App& command, const std::string& names, int64_t& target, const std::string& help);
CLI::Option* add_float_option(CLI::App& command, const std::string& names, double& target, const std::string& help);
CLI::Option* add_bool_option(CLI::App& command, const std::string& names, bool& target, const std::string& help);
// A number that sets something else (e.g. a float member), shown with `default_value`.
CLI::Option* add_float_option(CLI::App& command, const std::string& names, std::function<void(double)> set,
                              double default_value, const std::string& help);
// A boolean that sets something else (e.g. --no_render sets render = false).
CLI::Option* add_bool_option(CLI::App& command, const std::string& names, std::function<void(bool)> set,
                             bool default_value, const std::string& help);
CLI::Option* add_text_option(CLI::App& command, const std::string& names, std::string& target,
                             const std::string& help);

// Registers --<name> (and --<alias>) for every field of train/config.h on `command` (gpt train).
void add_config_options(CLI::App& command, TrainConfig& config);

// When argv holds an unknown command or option, one message naming it with a did-you-mean suggestion
// ("unknown option --n_layr; did you mean --n_layer?"); "" when every name is known.
std::string unknown_name_message(const CLI::App& app, int argc, const char* const* argv);

// The subcommand named in argv ("" when none): for "(see gpt SUBCOMMAND --help)".
std::string subcommand_in(const CLI::App& app, int argc, const char* const* argv);

}  // namespace gpt
