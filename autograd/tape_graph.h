// The tape as plain data: the graph that backpropagation walks, from the loss back to the parameters.
// Read from the root: Tensor::grad_fn() is the Node that produced a tensor, Node::inputs the autograd
// halves (AutogradMeta: shape, gradient, producer) of the tensors it read, Node::op_name its op.
// `gpt graph` (report/graph.h) writes it as DOT; `gpt serve`'s Backprop view draws it in the page.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "autograd/named_tensors.h"
#include "autograd/tensor.h"

namespace gpt {

// Tensors and ops in the order a breadth-first walk from the root meets them,
// and the edges data flows along (input tensor → op → output tensor). gpt serve draws this in the page.
struct TapeGraph {
    struct TensorNode {
        std::string name;  // the parameter's dotted name, "loss" for the root, a label's name, else empty
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

// `labels` (optional): names for tensors that are not parameters (gpt serve names each block's
// activations, so the page can group the tape by block).
TapeGraph tape_graph(const Tensor& root, const NamedTensors& parameters, const NamedTensors& labels = {});

// Marks every tensor on the tape that reaches `root` to keep its gradient after backward (retain_grad),
// so that tape_graph can report each one's gradient norm. Call before root.backward().
void retain_tape_grads(const Tensor& root);

}  // namespace gpt
