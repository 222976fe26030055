// `gpt graph [--out FILE] [--n_layer N] ... [--render BOOL]`: writes the autograd tape of a tiny GPT as
// Graphviz DOT, and SVG beside it when `dot` is installed (report/graph.h); prints the paths.
#pragma once

#include "report/graph.h"

namespace CLI {
class App;
}

namespace gpt {

void add_graph_options(CLI::App& command, GraphOptions& options);
int run_graph(const GraphOptions& options);

}  // namespace gpt
