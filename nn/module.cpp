#include "nn/module.h"

#include <stdexcept>

namespace gpt {

void Module::check_new_name(const std::string& name) const {
    if (name.empty() || name.find('.') != std::string::npos)
        throw std::invalid_argument("Module: name '" + name + "' must be non-empty and contain no '.'");
    for (const auto& [existing, tensor] : parameters_)
        if (existing == name) throw std::invalid_argument("Module: name '" + name + "' is already registered");
    for (const auto& [existing, child] : children_)
        if (existing == name) throw std::invalid_argument("Module: name '" + name + "' is already registered");
}

Tensor Module::register_parameter(const std::string& name, Tensor tensor) {
    check_new_name(name);
    tensor.set_requires_grad(true);
    parameters_.emplace_back(name, tensor);
    return tensor;
}

void Module::collect(const std::string& prefix, NamedTensors& out) const {
    for (const auto& [name, tensor] : parameters_) out.emplace_back(prefix + name, tensor);
    for (const auto& [name, child] : children_) child->collect(prefix + name + ".", out);
}

NamedTensors Module::named_parameters() const {
    NamedTensors out;
    collect("", out);
    return out;
}

std::vector<Tensor> Module::parameters() const {
    std::vector<Tensor> out;
    for (auto& [name, tensor] : named_parameters()) out.push_back(tensor);
    return out;
}

int64_t Module::parameter_count() const {
    int64_t n = 0;
    for (const auto& [name, tensor] : named_parameters()) n += tensor.numel();
    return n;
}

void Module::apply(const std::function<void(Module&)>& fn) {
    fn(*this);
    for (auto& [name, child] : children_) child->apply(fn);
}

void Module::train(bool on) {
    training_ = on;
    for (auto& [name, child] : children_) child->train(on);
}

}  // namespace gpt
