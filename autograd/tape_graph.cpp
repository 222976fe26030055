#include "autograd/tape_graph.h"

#include <cmath>
#include <deque>
#include <map>
#include <set>

namespace gpt {

TapeGraph tape_graph(const Tensor& root, const NamedTensors& parameters, const NamedTensors& labels) {
    // Tensors are told apart by their autograd half, the part of a tensor the tape holds.
    std::map<const AutogradMeta*, std::string> parameter_names, label_names;
    for (const auto& [name, tensor] : parameters) parameter_names[&tensor.impl()->autograd_meta()] = name;
    for (const auto& [name, tensor] : labels)
        if (tensor.defined()) label_names.emplace(&tensor.impl()->autograd_meta(), name);  // the first name wins

    const AutogradMeta* root_meta = &root.impl()->autograd_meta();
    TapeGraph graph;
    std::map<const AutogradMeta*, int64_t> tensor_ids;
    std::map<const Node*, int64_t> op_ids;
    auto tensor_id = [&](const AutogradMeta* t) {
        const auto [it, added] = tensor_ids.emplace(t, static_cast<int64_t>(graph.tensors.size()));
        if (added) {
            TapeGraph::TensorNode tensor;
            const auto named = parameter_names.find(t);
            tensor.parameter = named != parameter_names.end();
            const auto labelled = label_names.find(t);
            tensor.name = t == root_meta           ? "loss"
                          : tensor.parameter       ? named->second
                          : labelled != label_names.end() ? labelled->second
                                                          : "";
            tensor.shape = t->shape;
            tensor.requires_grad = t->requires_grad;
            if (t->grad) {
                double sum = 0.0;
                for (int64_t i = 0; i < t->numel; ++i) sum += static_cast<double>(t->grad->data[i]) * t->grad->data[i];
                tensor.grad_norm = std::sqrt(sum);
            }
            graph.tensors.push_back(std::move(tensor));
        }
        return it->second;
    };

    std::deque<const AutogradMeta*> pending{root_meta};
    tensor_id(root_meta);
    while (!pending.empty()) {
        const AutogradMeta* t = pending.front();
        pending.pop_front();
        const Node* node = t->grad_fn.get();
        if (!node) continue;
        // The second output of a two-output op (record_pair) is drawn as that op's output: its own node
        // only hands its gradient to the op's (its one input is the op's first output).
        if (node->hands_gradient_on && !node->inputs.empty() && node->inputs[0]) node = node->inputs[0]->grad_fn.get();
        const auto [it, added] = op_ids.emplace(node, static_cast<int64_t>(graph.ops.size()));
        if (added) graph.ops.push_back(node->op_name);
        graph.edges.push_back({true, it->second, tensor_id(t), false});
        if (!added) continue;
        for (const auto& input : node->inputs) {
            if (!input) continue;
            const bool seen = tensor_ids.count(input.get()) > 0;
            graph.edges.push_back({false, tensor_id(input.get()), it->second, !input->requires_grad});
            if (!seen) pending.push_back(input.get());
        }
    }
    return graph;
}

void retain_tape_grads(const Tensor& root) {
    std::set<AutogradMeta*> seen;
    std::deque<AutogradMeta*> pending{&root.impl()->autograd_meta()};
    while (!pending.empty()) {
        AutogradMeta* t = pending.front();
        pending.pop_front();
        if (!seen.insert(t).second) continue;
        t->retain_grad = true;
        if (t->grad_fn)
            for (const auto& input : t->grad_fn->inputs)
                if (input) pending.push_back(input.get());
    }
}

}  // namespace gpt
