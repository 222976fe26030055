#include "optim/muon.h"
#include "optim/option_check.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>
#include <stdexcept>

#include "autograd/ops.h"

namespace gpt {

namespace {

using detail::num;

void require(bool ok, const std::string& message) { detail::require_option(ok, "Muon", message); }

}  // namespace

void MuonOptions::validate() const {
    require(std::isfinite(lr) && lr >= 0.0f, "muon_lr must be finite and >= 0, got " + num(lr));
    require(momentum >= 0.0f && momentum < 1.0f, "muon_momentum must be in [0, 1), got " + num(momentum));
    require(ns_steps >= 1 && ns_steps <= 100, "muon_ns_steps must be in [1, 100], got " + std::to_string(ns_steps));
    require(std::isfinite(ns_a) && std::isfinite(ns_b) && std::isfinite(ns_c),
            "the Newton-Schulz coefficients must be finite");
    require(std::isfinite(weight_decay) && weight_decay >= 0.0f,
            "muon_weight_decay must be finite and >= 0, got " + num(weight_decay));
}

bool muon_takes(const std::string& name, const Shape& shape) {
    if (shape.size() != 2) return false;
    for (const char* blocks : {"h.", "encoder.h.", "decoder.h."})  // GPT/BERT; the encoder–decoder's two stacks
        if (name.rfind(blocks, 0) == 0) return true;
    return false;
}

std::vector<float> newton_schulz(const std::vector<float>& u, int64_t rows, int64_t cols, const MuonOptions& options) {
    NoGradGuard no_grad;
    double sum_sq = 0.0;  // in element order, so the scale is the same for any thread count
    for (float x : u) sum_sq += static_cast<double>(x) * x;
    const float inv_norm = static_cast<float>(1.0 / (std::sqrt(sum_sq) + 1e-7));
    Tensor X = mul_scalar(Tensor::from_vector({rows, cols}, u), inv_norm);
    const bool tall = rows > cols;
    if (tall) X = transpose(X, 0, 1);  // [m, n] with m = min(rows, cols): the Gram matrix is m × m
    for (int64_t i = 0; i < options.ns_steps; ++i) {
        const Tensor A = matmul(X, X, /*transpose_b=*/true);                        // X·Xᵀ [m, m]
        const Tensor B = add(mul_scalar(A, options.ns_b), mul_scalar(matmul(A, A), options.ns_c));
        X = add(mul_scalar(X, options.ns_a), matmul(B, X));                          // a·X + B·X
    }
    if (tall) X = transpose(X, 0, 1);
    return std::vector<float>(X.data(), X.data() + X.numel());
}

Muon::Muon(NamedTensors parameters, MuonOptions options) : options_(options), parameters_(std::move(parameters)) {
    options_.validate();
    std::set<std::string> names;
    for (const auto& [name, tensor] : parameters_) {
        require(!name.empty() && names.insert(name).second, "parameter names must be non-empty and unique ('" + name + "')");
        require(tensor.defined() && tensor.shape().size() == 2, "parameter " + name + " is not a 2-D matrix");
        momentum_.emplace_back(static_cast<size_t>(tensor.numel()), 0.0f);
    }
}

const std::vector<float>& Muon::momentum(const std::string& name) const {
    for (size_t k = 0; k < parameters_.size(); ++k)
        if (parameters_[k].first == name) return momentum_[k];
    throw std::invalid_argument("Muon: no parameter named " + name);
}

void Muon::step(float grad_scale, std::vector<AdamWUpdateNorm>* norms) {
    if (norms) norms->clear();
    for (size_t k = 0; k < parameters_.size(); ++k) {
        AdamWUpdateNorm norm{parameters_[k].first, 0.0, 0.0};
        update(k, grad_scale, norms ? &norm : nullptr);
        if (norms) norms->push_back(norm);
    }
    step_count_ += 1;
}

// One matrix: momentum, Nesterov, Newton–Schulz, decay and the scaled update (the formulas in muon.h).
void Muon::update(size_t k, float grad_scale, AdamWUpdateNorm* norm) {
    const Tensor& w = parameters_[k].second;
    const float* g = w.grad();
    if (g == nullptr) return;
    const int64_t rows = w.shape()[0], cols = w.shape()[1];
    const size_t n = static_cast<size_t>(w.numel());
    std::vector<float>& buf = momentum_[k];
    std::vector<float> u(n);
    const float mu = options_.momentum;
    for (size_t i = 0; i < n; ++i) {
        const float gi = g[i] * grad_scale;
        buf[i] = mu * buf[i] + gi;
        u[i] = options_.nesterov ? gi + mu * buf[i] : buf[i];
    }
    const std::vector<float> O = newton_schulz(u, rows, cols, options_);
    const float decay = static_cast<float>(1.0 - static_cast<double>(options_.lr) * options_.weight_decay);
    const float step = static_cast<float>(
        -static_cast<double>(options_.lr) * std::sqrt(std::max(1.0, static_cast<double>(rows) / static_cast<double>(cols))));
    float* p = w.data();
    for (size_t i = 0; i < n; ++i) {
        const float before = p[i];
        p[i] = before * decay + step * O[i];
        if (norm) {
            const double d = static_cast<double>(p[i]) - before;
            norm->update_sq += d * d;
            norm->weight_sq += static_cast<double>(before) * before;
        }
    }
}

MuonState Muon::state() const {
    MuonState state;
    state.step = step_count_;
    for (size_t k = 0; k < parameters_.size(); ++k) state.momentum[parameters_[k].first] = momentum_[k];
    return state;
}

void Muon::load_state(MuonState state) {
    require(state.step >= 0, "step " + std::to_string(state.step) + " is negative");
    require(state.momentum.size() == parameters_.size(), "the state has " + std::to_string(state.momentum.size()) +
                                                             " momentum buffers, the model " +
                                                             std::to_string(parameters_.size()) + " Muon matrices");
    for (const auto& [name, tensor] : parameters_) {
        const auto found = state.momentum.find(name);
        require(found != state.momentum.end(), "no momentum for " + name);
        require(static_cast<int64_t>(found->second.size()) == tensor.numel(),
                "the momentum of " + name + " has " + std::to_string(found->second.size()) + " elements, expected " +
                    std::to_string(tensor.numel()));
    }
    for (size_t k = 0; k < parameters_.size(); ++k) momentum_[k] = std::move(state.momentum[parameters_[k].first]);
    step_count_ = state.step;
}

}  // namespace gpt
