// Module: owns parameters and child modules by name, as the PyTorch C++ frontend does.
// named_parameters() yields dotted names ("h.0.attn.c_attn.weight") in registration order; those names
// are also the HDF5 dataset names under /model in a checkpoint.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "autograd/named_tensors.h"
#include "autograd/tensor.h"

namespace gpt {

class Module {
public:
    Module() = default;
    virtual ~Module() = default;
    Module(const Module&) = delete;
    Module& operator=(const Module&) = delete;

    NamedTensors named_parameters() const;
    std::vector<Tensor> parameters() const;
    int64_t parameter_count() const;

    // Calls fn on this module and then on every descendant, in registration order (PyTorch's
    // Module.apply): what acts on every module of one kind (GPT::set_inference_weights on each Linear).
    void apply(const std::function<void(Module&)>& fn);

    // Train mode turns dropout on; eval mode off. Applies to every descendant.
    void train(bool on = true);
    void eval() { train(false); }
    bool is_training() const { return training_; }

protected:
    // The tensor becomes a leaf that requires grad. Names must be non-empty, dot-free and unique.
    Tensor register_parameter(const std::string& name, Tensor tensor);

    template <class M>
    std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> module) {
        check_new_name(name);
        children_.emplace_back(name, module);
        return module;
    }

private:
    void check_new_name(const std::string& name) const;
    void collect(const std::string& prefix, NamedTensors& out) const;

    NamedTensors parameters_;
    std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
    bool training_ = true;
};

// Eval mode (no dropout) for a scope; the module's previous mode is restored when the scope ends, also
// when it ends by an exception (an evaluation that throws must not leave a training run without dropout).
class EvalModeGuard {
public:
    explicit EvalModeGuard(Module& module) : module_(module), was_training_(module.is_training()) { module.eval(); }
    ~EvalModeGuard() { module_.train(was_training_); }
    EvalModeGuard(const EvalModeGuard&) = delete;
    EvalModeGuard& operator=(const EvalModeGuard&) = delete;

private:
    Module& module_;
    bool was_training_;
};

}  // namespace gpt
