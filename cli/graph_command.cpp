#include "cli/graph_command.h"

#include <CLI/CLI.hpp>
#include <cstdio>

#include "cli/options.h"

namespace gpt {

void add_graph_options(CLI::App& command, GraphOptions& o) {
    add_text_option(command, "--out", o.out, "DOT file to write; the SVG goes beside it")->type_name("FILE");
    add_int_option(command, "--n_layer", o.n_layer, "transformer blocks of the tiny model");
    add_int_option(command, "--n_head", o.n_head, "query heads per attention layer");
    add_int_option(command, "--n_kv_head", o.n_kv_head, "key/value heads; 0 = n_head");
    add_int_option(command, "--n_embd", o.n_embd, "embedding width C, in channels");
    add_int_option(command, "--vocab_size", o.vocab_size, "vocabulary size");
    add_int_option(command, "--batch_size", o.batch_size, "sequences per batch B");
    add_int_option(command, "--block_size", o.block_size, "context length T, in tokens");
    add_bool_option(command, "--render", o.render, "also write the SVG when dot (Graphviz) is installed");
    add_bool_option(command, "--no_render", [&o](bool no_render) { o.render = !no_render; }, false,
                    "write only the DOT file (the same as --render false)");
}

int run_graph(const GraphOptions& options) {
    const GraphResult result = write_graph(options);
    std::fprintf(stderr, "graph: %lld ops, %lld tensors\n", (long long)result.op_nodes, (long long)result.tensor_nodes);
    std::printf("%s\n", options.out.c_str());
    if (!result.svg_path.empty()) std::printf("%s\n", result.svg_path.c_str());
    else if (options.render) std::fprintf(stderr, "graph: dot (Graphviz) not found; only the DOT file was written\n");
    return 0;
}

}  // namespace gpt
