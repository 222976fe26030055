// `gpt report RUN_DIR [--prompt TEXT] [--sample_tokens N] [--source TEXT [--target TEXT]] [--threads N]`:
// writes RUN_DIR/report.html from RUN_DIR/ckpt.h5, metrics.jsonl, config.toml and val.bin (model = gpt,
// bert: report/report_html.h) or the held-out pairs of the run's data (model = transformer:
// report/report_encoder_decoder.h), prints its path.
#pragma once

#include <cstdint>
#include <string>

namespace CLI {
class App;
}

namespace gpt {

struct ReportCommandOptions {
    std::string run_dir;  // run folder, or a checkpoint file inside one
    std::string prompt;   // empty: the first line of the validation text
    int64_t sample_tokens = 200;
    std::string source, target;  // model = transformer: the pair of the maps
    int64_t threads = 0;
};

void add_report_options(CLI::App& command, ReportCommandOptions& options);
int run_report(const ReportCommandOptions& options);

}  // namespace gpt
