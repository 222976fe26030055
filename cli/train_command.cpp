#include "cli/train_command.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "cli/options.h"
#include "report/report_html.h"
#include "train/config.h"
#include "train/trainer.h"

namespace gpt {

namespace {

struct TrainCommand {
    TrainConfig config;
    std::string config_path;
    CLI::App* command = nullptr;

    bool given_on_command_line(const std::string& name) const { return command->get_option("--" + name)->count() > 0; }

    int run() {
        std::vector<std::string> config_keys;  // fields the config file sets
        if (!config_path.empty()) {
            try {
                config_keys = apply_config_file(config, config_path,
                                                [&](const std::string& name) { return !given_on_command_line(name); });
            } catch (const std::exception& e) {
                throw UsageError(e.what());
            }
        }
        // An option counts as given when the command line or the config file sets it (resume keeps the
        // checkpoint's value of every other option).
        auto given = [&](const std::string& name) {
            return given_on_command_line(name) ||
                   std::find(config_keys.begin(), config_keys.end(), name) != config_keys.end();
        };
        return run_train(config, given, report_hooks());
    }
};

}  // namespace

Subcommand train_command() {
    return {"train", "pretrain a GPT on a text file or folder (see configs/)", [](CLI::App& command) {
                auto train = std::make_shared<TrainCommand>();
                train->command = &command;
                add_text_option(command, "--config", train->config_path,
                                "TOML config file, options under a [train] table (see configs/); options given on "
                                "the command line override it")
                    ->type_name("FILE");
                add_config_options(command, train->config);
                return std::function<int()>([train] { return train->run(); });
            }};
}

}  // namespace gpt
