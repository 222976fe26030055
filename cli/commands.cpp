// The table of subcommands cli/main.cpp registers, in `gpt --help` order.
#include <CLI/CLI.hpp>

#include "cli/eval_command.h"
#include "cli/fill_command.h"
#include "cli/graph_command.h"
#include "cli/interop_commands.h"
#include "cli/report_command.h"
#include "cli/sample_command.h"
#include "cli/serve_command.h"
#include "cli/subcommand.h"
#include "cli/train_command.h"
#include "cli/translate_command.h"
#include "serve/server.h"

namespace gpt {

const std::vector<Subcommand>& subcommands() {
    static const std::vector<Subcommand> table = {
        train_command(),
        make_subcommand<SampleOptions>("sample", "generate text from a checkpoint (KV cache, top-k/top-p)",
                                       add_sample_options, run_sample),
        make_subcommand<TranslateOptions>("translate",
                                          "the output of a model = transformer checkpoint for a source text (greedy "
                                          "or beam search)",
                                          add_translate_options, run_translate),
        make_subcommand<EvalOptions>("eval",
                                     "mean next-token loss of a checkpoint on a text file; model = bert: masked-token "
                                     "loss and accuracy; model = transformer: loss and exact match on held-out pairs "
                                     "(one JSON line)",
                                     add_eval_options, run_eval),
        make_subcommand<FillOptions>("fill", "a bert checkpoint's top candidates for each [MASK] in a text",
                                     add_fill_options, run_fill),
        make_subcommand<ReportCommandOptions>(
            "report", "write RUN_DIR/report.html: loss, gradient flow, attention maps", add_report_options, run_report),
        make_subcommand<GraphOptions>("graph", "write the autograd tape of a tiny model as Graphviz DOT (+ SVG)",
                                      add_graph_options, run_graph),
        make_subcommand<ServeOptions>("serve",
                                      "a local web page over runs: training curves, the forward pass, backpropagation",
                                      add_serve_options, run_serve),
        make_subcommand<ImportCommandOptions>(
            "import", "convert a Hugging Face GPT-2 folder (config.json + model.safetensors) to a checkpoint",
            add_import_options, run_import),
        make_subcommand<ExportCommandOptions>(
            "export", "write a checkpoint as safetensors: Hugging Face GPT-2 layout (hf) or own names",
            add_export_options, run_export),
    };
    return table;
}

}  // namespace gpt
