#include "report/graph.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>

#include "common/output_path.h"
#include "io/atomic_write.h"
#include "nn/gpt.h"
#include "nn/init.h"

namespace gpt {

namespace fs = std::filesystem;

namespace {

std::string dot_escape(const std::string& text) {
    std::string out;
    for (const char c : text) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out;
}

std::string shell_quote(const std::string& text) {
    std::string out = "'";
    for (const char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

}  // namespace

TapeDot tape_to_dot(const Tensor& root, const NamedTensors& parameters, const std::string& title) {
    const TapeGraph graph = tape_graph(root, parameters);
    std::string nodes, edges;
    for (size_t i = 0; i < graph.tensors.size(); ++i) {
        const TapeGraph::TensorNode& t = graph.tensors[i];
        std::string label = t.name.empty() ? "" : t.name + "\\n";
        label += dot_escape(shape_str(t.shape));
        std::string style = "fillcolor=\"#eeeeee\" color=\"#999999\"";  // a constant: no gradient
        if (t.parameter) style = "fillcolor=\"#cfe2f3\" color=\"#3d6fa5\"";
        else if (t.requires_grad) style = "fillcolor=\"#ffffff\"";
        if (t.parameter && t.requires_grad && t.grad_norm >= 0) label += "  ∇";
        nodes += "  t" + std::to_string(i) + " [shape=ellipse, style=filled, " + style + ", label=\"" + label +
                 "\", tooltip=\"" + (t.requires_grad ? "requires grad" : "no grad") + "\"];\n";
    }
    for (size_t i = 0; i < graph.ops.size(); ++i)
        nodes += "  op" + std::to_string(i) + " [shape=box, style=\"filled,rounded\", fillcolor=\"#fde9c9\", "
                 "color=\"#c77c02\", label=\"" + dot_escape(graph.ops[i]) + "\"];\n";
    for (const TapeGraph::Edge& e : graph.edges) {
        std::string line = "  ";  // built with += : GCC 12 warns -Wrestrict (falsely) on "t" + std::string&&
        line += e.from_op ? "op" + std::to_string(e.from) + " -> t" + std::to_string(e.to)
                          : "t" + std::to_string(e.from) + " -> op" + std::to_string(e.to);
        line += e.constant ? " [style=dashed];\n" : ";\n";
        edges += line;
    }
    TapeDot dot;
    dot.op_nodes = static_cast<int64_t>(graph.ops.size());
    dot.tensor_nodes = static_cast<int64_t>(graph.tensors.size());
    dot.text = "digraph tape {\n  label=\"" + dot_escape(title) +
           "\"; labelloc=t; rankdir=TB; fontname=\"Helvetica\";\n"
           "  node [fontname=\"Helvetica\", fontsize=10]; edge [color=\"#777777\"];\n" +
           nodes + edges + "}\n";
    return dot;
}

GraphResult write_graph(const GraphOptions& o) {
    GPTConfig config;
    config.vocab_size = o.vocab_size;
    config.block_size = o.block_size;
    config.n_layer = o.n_layer;
    config.n_head = o.n_head;
    config.n_kv_head = o.n_kv_head;  // 0: n_head (GPTConfig::kv_heads)
    config.n_embd = o.n_embd;
    config.dropout = 0.0f;
    GPT model(config);  // validates the shape options
    Generator generator(1337);
    init_gpt2(model, generator);
    const int64_t B = o.batch_size, T = o.block_size;
    if (B < 1) throw std::invalid_argument("--batch_size must be positive, got " + std::to_string(B));
    std::vector<int32_t> ids(static_cast<size_t>(B * T)), targets(static_cast<size_t>(B * T));
    for (auto& id : ids) id = static_cast<int32_t>(generator.next_u64() % static_cast<uint64_t>(o.vocab_size));
    for (auto& id : targets) id = static_cast<int32_t>(generator.next_u64() % static_cast<uint64_t>(o.vocab_size));

    Tensor loss = GPT::loss(model.forward(ids, B, T, generator), targets);
    loss.backward();  // the tape stays: backward reads it, it does not consume it
    const std::string title = "autograd tape: GPT n_layer " + std::to_string(o.n_layer) + ", n_head " +
                              std::to_string(o.n_head) + ", n_embd " + std::to_string(o.n_embd) + ", B " +
                              std::to_string(B) + ", T " + std::to_string(T) + ", loss " +
                              std::to_string(loss.item());
    GraphResult result;
    const TapeDot tape = tape_to_dot(loss, model.named_parameters(), title);
    result.dot = tape.text;
    result.op_nodes = tape.op_nodes;
    result.tensor_nodes = tape.tensor_nodes;

    const fs::path out = o.out;
    check_output_file(out, "--out");
    if (out.has_parent_path()) fs::create_directories(out.parent_path());
    write_bytes_atomically(out.string(), result.dot);
    if (o.render && std::system("command -v dot >/dev/null 2>&1") == 0) {
        const fs::path svg = fs::path(out).replace_extension(".svg");
        const std::string command = "dot -Tsvg " + shell_quote(out.string()) + " -o " + shell_quote(svg.string());
        if (std::system(command.c_str()) != 0) throw std::runtime_error("graph: '" + command + "' failed");
        result.svg_path = svg.string();
    }
    return result;
}

}  // namespace gpt
