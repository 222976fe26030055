#include "cli/report_command.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <stdexcept>

#include "cli/options.h"
#include "report/report_html.h"
#include "common/threads.h"

namespace gpt {

void add_report_options(CLI::App& command, ReportCommandOptions& options) {
    add_text_option(command, "run_dir", options.run_dir, "run folder (holds ckpt.h5, metrics.jsonl) or checkpoint file")
        ->type_name("PATH")
        ->required();
    add_text_option(command, "--prompt", options.prompt,
                    "prompt of the attention and next-token views; empty = the first line of the validation text");
    add_int_option(command, "--sample_tokens", options.sample_tokens, "tokens in the report's sample; 0 = none");
    add_text_option(command, "--source", options.source,
                    "model = transformer: source text of the attention maps; empty = the first held-out example");
    add_text_option(command, "--target", options.target,
                    "model = transformer: target text for --source; empty = the model's greedy translation");
    add_int_option(command, "--threads", options.threads, "worker threads; 0 = OMP_NUM_THREADS or the physical cores");
}

int run_report(const ReportCommandOptions& options) {
    if (options.sample_tokens < 0)
        throw std::invalid_argument("--sample_tokens must be >= 0, got " + std::to_string(options.sample_tokens));
    if (options.threads < 0)
        throw std::invalid_argument("--threads must not be negative, got " + std::to_string(options.threads));
    configure_threads(options.threads);
    ReportOptions report;
    report.prompt = options.prompt;
    report.sample_tokens = options.sample_tokens;
    report.source = options.source;
    report.target = options.target;
    const std::string path = write_report(options.run_dir, report);
    std::printf("%s\n", path.c_str());
    return 0;
}

}  // namespace gpt
