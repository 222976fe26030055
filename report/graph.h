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

#include "autograd/tensor.h"
#include "nn/module.h"

namespace gpt {

// The tape as plain data: tensors and ops in the order a breadth-first walk from the root meets them,
// and the edges data flows along (input tensor → op → output tensor). gpt serve draws this in the page.
struct TapeGraph {
    struct TensorNode {
        std::string name;  // the parameter's dotted name, "loss" for the root, else empty
        Shape shape;
        bool requires_grad = false;
        bool parameter = false;
        double grad_norm = -1.0;  // ‖dL/dt‖ when the tensor holds a gradient, else -1
    };
    struct Edge {
        bool from_op = false;  // op → tensor (from = op index, to = tensor index); else tensor → op
        int64_t from = 0, to = 0;
        bool constant = false;  // the input takes no gradient (drawn dashed)
    };
    std::vector<TensorNode> tensors;
    std::vector<std::string> ops;  // op names
    std::vector<Edge> edges;
};

TapeGraph tape_graph(const Tensor& root, const NamedTensors& parameters);

// Marks every tensor on the tape that reaches `root` to keep its gradient after backward (retain_grad),
// so that tape_graph can report each one's gradient norm. Call before root.backward().
void retain_tape_grads(const Tensor& root);

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
