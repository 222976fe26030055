// `gpt graph`: the autograd tape of one forward/backward pass of a tiny GPT as a Graphviz DOT file,
// rendered to SVG when `dot` is on PATH — the graph that backpropagation walks, loss to parameters.
//
// The tape is read from the loss: Tensor::grad_fn() is the Node that produced a tensor, Node::inputs the
// autograd halves (AutogradMeta: shape, gradient, producer) of the tensors it read, Node::op_name its op. Drawn as a bipartite graph, data flowing downwards:
//   tensor (ellipse: name if a parameter, shape; blue = parameter, white = requires grad, grey = constant)
//     → op (box: op name) → tensor → … → loss
// After backward every parameter that received a gradient is marked "∇".
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "autograd/tape_graph.h"
#include "autograd/tensor.h"
#include "nn/module.h"

namespace gpt {

struct TapeDot {
    std::string text;
    int64_t op_nodes = 0, tensor_nodes = 0;
};

// DOT text of every node reachable from `root` through grad_fn/inputs. `parameters` names the leaves.
TapeDot tape_to_dot(const Tensor& root, const NamedTensors& parameters, const std::string& title);

struct GraphOptions {
    std::string out = "graph.dot";  // the SVG goes beside it (same name, .svg)
    int64_t n_layer = 1;
    int64_t n_head = 2;
    int64_t n_kv_head = 0;
    int64_t n_embd = 16;
    int64_t vocab_size = 11;
    int64_t batch_size = 2;
    int64_t block_size = 4;
    bool render = true;  // run `dot -Tsvg` when it is installed
};

struct GraphResult {
    std::string dot;       // the DOT text
    std::string svg_path;  // empty when not rendered
    int64_t op_nodes = 0, tensor_nodes = 0;
};

// Builds the model (init_gpt2, seed 1337), runs forward + cross-entropy + backward on random ids, writes
// options.out (and the SVG). Throws std::runtime_error when the file cannot be written or dot fails.
GraphResult write_graph(const GraphOptions& options);

}  // namespace gpt
