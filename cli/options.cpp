#include "cli/options.h"

#include <CLI/CLI.hpp>
#include <cctype>
#include <functional>
#include <stdexcept>

#include "train/config.h"

namespace gpt {

namespace {

// Every option takes its value as text and parses it itself: CLI11 2.1 would clamp an integer that is
// out of range, print doubles with 17 digits and show every type as TEXT.
CLI::Option* add_parsed(CLI::App& command, const std::string& names, const std::string& type, std::string help,
                        const std::string& default_text, std::function<void(const std::string&)> parse) {
    if (!default_text.empty()) help += " (default " + default_text + ")";
    const std::string name = names.substr(0, names.find(','));
    CLI::Option* option = command.add_option_function<std::string>(
        names,
        [name, parse = std::move(parse)](const std::string& value) {
            try {
                parse(value);
            } catch (const std::invalid_argument& e) {
                throw CLI::ValidationError(name, e.what());
            }
        },
        help);
    option->type_name(type);
    return option;
}

// A bare --flag arrives as "" (CLI11's value for an optional argument left out): true.
bool bool_value(const std::string& text) { return text.empty() ? true : parse_bool(text); }

}  // namespace

CLI::Option* add_int_option(CLI::App& command, const std::string& names, int64_t& target, const std::string& help) {
    return add_parsed(command, names, "INT", help, std::to_string(target),
                      [&target](const std::string& v) { target = parse_int64(v); });
}

CLI::Option* add_float_option(CLI::App& command, const std::string& names, double& target, const std::string& help) {
    return add_parsed(command, names, "FLOAT", help, format_double(target),
                      [&target](const std::string& v) { target = parse_double(v); });
}

CLI::Option* add_float_option(CLI::App& command, const std::string& names, std::function<void(double)> set,
                              double default_value, const std::string& help) {
    return add_parsed(command, names, "FLOAT", help, format_double(default_value),
                      [set = std::move(set)](const std::string& v) { set(parse_double(v)); });
}

CLI::Option* add_bool_option(CLI::App& command, const std::string& names, bool& target, const std::string& help) {
    return add_parsed(command, names, "BOOL", help, target ? "true" : "false",
                      [&target](const std::string& v) { target = bool_value(v); })
        ->expected(0, 1);
}

CLI::Option* add_bool_option(CLI::App& command, const std::string& names, std::function<void(bool)> set,
                             bool default_value, const std::string& help) {
    return add_parsed(command, names, "BOOL", help, default_value ? "true" : "false",
                      [set = std::move(set)](const std::string& v) { set(bool_value(v)); })
        ->expected(0, 1);
}

CLI::Option* add_text_option(CLI::App& command, const std::string& names, std::string& target,
                             const std::string& help) {
    return add_parsed(command, names, "TEXT", help, target, [&target](const std::string& v) { target = v; });
}

void add_config_options(CLI::App& command, TrainConfig& config) {
    const TrainConfig defaults;
    for (const ConfigField& f : config_fields()) {
        // The same parser as the config files, so "--bias false" and "bias = false" mean the same thing.
        std::string names = "--" + f.name;
        for (const std::string& alias : f.aliases) names += ",--" + alias;
        std::string default_text = f.default_note.empty() ? f.to_toml(defaults) : f.default_note;
        if (f.type == "TEXT" || f.type == "PATH") default_text = default_text.substr(1, default_text.size() - 2);  // unquoted
        const bool is_bool = f.type == "BOOL";
        auto* option = add_parsed(command, names, f.type, f.help, default_text,
                                  [&config, from_text = f.from_text, is_bool](const std::string& v) {
                                      from_text(config, is_bool && v.empty() ? "true" : v);
                                  });
        if (is_bool) option->expected(0, 1);
    }
    // Not a config field: an action of this command, never stored in config.toml or a checkpoint.
    add_bool_option(command, "--overwrite", config.overwrite,
                    "replace the run in --out_dir, or branch from an older checkpoint given to --resume "
                    "(removes the newer checkpoints); never stored");
}

namespace {

bool option_like(const std::string& arg) {
    return arg.size() > 1 && arg[0] == '-' && !std::isdigit(static_cast<unsigned char>(arg[1])) && arg[1] != '.';
}

std::string without_dashes(const std::string& name) { return name.substr(name.find_first_not_of('-')); }

}  // namespace

std::string subcommand_in(const CLI::App& app, int argc, const char* const* argv) {
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--") break;
        if (option_like(arg)) continue;
        for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; }))
            if (sub->get_name() == arg) return arg;
        return "";
    }
    return "";
}

std::string unknown_name_message(const CLI::App& app, int argc, const char* const* argv) {
    const CLI::App* current = &app;
    const auto subcommands = app.get_subcommands([](const CLI::App*) { return true; });
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--") break;
        if (!option_like(arg)) {
            if (current != &app) continue;  // a positional argument or a value
            std::vector<std::string> names;
            for (const CLI::App* sub : subcommands) {
                if (sub->get_name() == arg) current = sub;
                names.push_back(sub->get_name());
            }
            if (current != &app) continue;
            const std::string suggestion = closest_name(arg, names);
            return "unknown command '" + arg + "'" + (suggestion.empty() ? "" : "; did you mean " + suggestion + "?");
        }
        const std::string name = arg.substr(0, arg.find('='));
        const CLI::Option* option = current->get_option_no_throw(name);
        if (!option) option = app.get_option_no_throw(name);
        if (option) {
            // A value that must follow is taken whatever it looks like: skip it.
            if (option->get_expected_min() > 0 && arg.find('=') == std::string::npos) ++i;
            continue;
        }
        if (current == &app)
            for (const CLI::App* sub : subcommands)
                if (sub->get_option_no_throw(name))
                    return "option " + name + " goes after the command: gpt " + sub->get_name() + " " + name + " ...";
        std::vector<std::string> names;
        for (const CLI::App* level : {current, static_cast<const CLI::App*>(&app)}) {
            for (const CLI::Option* o : level->get_options())
                for (const std::string& long_name : o->get_lnames()) names.push_back(long_name);
            if (level == &app) break;
        }
        const std::string suggestion = closest_name(without_dashes(name), names);
        return "unknown option " + name + (suggestion.empty() ? "" : "; did you mean --" + suggestion + "?");
    }
    return "";
}

}  // namespace gpt
