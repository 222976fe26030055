// `gpt train [--config FILE] [--<option> VALUE ...]`: the options are train/config.h's table of fields.
//
// Config files: CLI11 2.1.2 ignores a config file registered on a subcommand (CLIUtils/CLI11#1056) and
// its own config reader mangles booleans and knows no line numbers, so `--config FILE` is an ordinary
// option and the file is read here (train/config.h): checked whole first (file:line: key in every
// message), then its keys fill what the command line did not set.
#pragma once

#include "cli/subcommand.h"

namespace gpt {

Subcommand train_command();

}  // namespace gpt
