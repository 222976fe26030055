#include "optim/adamw.h"
#include "optim/option_check.h"

#include "autograd/kernels/kernels.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace gpt {

namespace {

using detail::num;

void require(bool ok, const std::string& message) { detail::require_option(ok, "AdamW", message); }

// The float32 scalars of one step, each rounded once from its double value as PyTorch passes a Python
// float to a float32 tensor op.
struct StepScalars {
    float decay;            // 1 − lr·wd
    float beta1, one_minus_beta1;
    float beta2, one_minus_beta2;
    float bias_correction2_sqrt;  // √(1 − β2^t)
    float eps;
    float neg_step_size;    // −lr / (1 − β1^t)
    float grad_scale;       // the clipping coefficient (1: none)
};

StepScalars step_scalars(const AdamWOptions& o, bool decay, int64_t t, float grad_scale) {
    const double lr = o.lr, b1 = o.beta1, b2 = o.beta2;
    const double bias_correction1 = 1.0 - std::pow(b1, static_cast<double>(t));
    const double bias_correction2 = 1.0 - std::pow(b2, static_cast<double>(t));
    StepScalars s;
    s.decay = static_cast<float>(1.0 - lr * (decay ? static_cast<double>(o.weight_decay) : 0.0));
    s.beta1 = o.beta1;
    s.one_minus_beta1 = static_cast<float>(1.0 - b1);
    s.beta2 = o.beta2;
    s.one_minus_beta2 = static_cast<float>(1.0 - b2);
    s.bias_correction2_sqrt = static_cast<float>(std::sqrt(bias_correction2));
    s.eps = o.eps;
    s.neg_step_size = static_cast<float>(-(lr / bias_correction1));
    s.grad_scale = grad_scale;
    return s;
}

// PyTorch's sequence, one element at a time (its AVX2 kernels, built by GCC, which fuses a·b + c):
//   param.mul_(decay)
//   exp_avg.mul_(β1).add_(g, alpha=1−β1)             add_ is fmadd(g, alpha, m)
//   exp_avg_sq.mul_(β2).addcmul_(g, g, value=1−β2)   v + (value·g)·g, contracted to one fma
//   denom = sqrt(v) / bc2_sqrt + eps
//   param.addcdiv_(m, denom, value=−step_size)        p + (value·m) / denom
// With the fmas this is bit-identical to torch.optim.AdamW here (tests/optim/test_adamw.cpp). The loop
// is kernels::Table::adamw_update (autograd/kernels/impl_rows.h), compiled per ISA and chosen at run
// time; every path computes the fmas exactly, so every path gives the same bits.
void adamw_update(float* p, const float* g, float* m, float* v, int64_t n, const StepScalars& s) {
    const kernels::AdamWScalars k{s.decay, s.beta1, s.one_minus_beta1, s.beta2, s.one_minus_beta2,
                                  s.bias_correction2_sqrt, s.eps, s.neg_step_size, s.grad_scale};
    kernels::table().adamw_update(p, g, m, v, n, k);
}

// The same update (the same kernel, so the same bits), also summing (p_after − p_before)² and
// p_before² in double, in a fixed order that does not depend on the thread count: fixed blocks of kBlock
// elements; in a block, 8 lanes (lane l sums the elements i ≡ l mod 8, in order), added lane 0 to 7; the
// blocks' sums added in order. The blocks run in parallel as the plain update does, and the lanes keep
// the sums from being one long chain of dependent additions. Each block keeps its weights before the
// update on its thread's stack, not a copy of the whole tensor. (One thread summing the whole tensor in
// element order made every measured step, each one at --log_interval 1, pay AdamW on one core plus
// 124M dependent additions for GPT-2 124M.)
constexpr int64_t kNormLanes = 8;

void adamw_update_measured(float* p, const float* g, float* m, float* v, int64_t n, const StepScalars& s,
                           AdamWUpdateNorm& norm) {
    constexpr int64_t kBlock = 4096;  // below the kernel's own parallel threshold: each block runs serially
    const int64_t blocks = (n + kBlock - 1) / kBlock;
    std::vector<double> update(static_cast<size_t>(blocks)), weight(static_cast<size_t>(blocks));
#pragma omp parallel for schedule(static) if (blocks >= 8)
    for (int64_t b = 0; b < blocks; ++b) {
        const int64_t start = b * kBlock, count = std::min(kBlock, n - start);
        float before[kBlock];
        std::copy_n(p + start, count, before);
        adamw_update(p + start, g + start, m + start, v + start, count, s);
        const float* after = p + start;
        double update_lane[kNormLanes] = {}, weight_lane[kNormLanes] = {};
        const int64_t full = count - count % kNormLanes;  // groups of 8 (one vector), then the rest
        for (int64_t i0 = 0; i0 < full; i0 += kNormLanes)
            for (int64_t l = 0; l < kNormLanes; ++l) {
                const double w = before[i0 + l], delta = static_cast<double>(after[i0 + l]) - w;
                update_lane[l] += delta * delta;
                weight_lane[l] += w * w;
            }
        for (int64_t i = full; i < count; ++i) {
            const double w = before[i], delta = static_cast<double>(after[i]) - w;
            update_lane[i - full] += delta * delta;
            weight_lane[i - full] += w * w;
        }
        double update_sq = 0.0, weight_sq = 0.0;
        for (int64_t l = 0; l < kNormLanes; ++l) {
            update_sq += update_lane[l];
            weight_sq += weight_lane[l];
        }
        update[static_cast<size_t>(b)] = update_sq;
        weight[static_cast<size_t>(b)] = weight_sq;
    }
    norm.update_sq = 0.0;
    norm.weight_sq = 0.0;
    for (int64_t b = 0; b < blocks; ++b) {
        norm.update_sq += update[static_cast<size_t>(b)];
        norm.weight_sq += weight[static_cast<size_t>(b)];
    }
}

}  // namespace

void AdamWOptions::validate() const {
    require(std::isfinite(lr) && lr >= 0.0f, "lr must be finite and >= 0, got " + num(lr));
    require(std::isfinite(beta1) && beta1 >= 0.0f && beta1 < 1.0f, "beta1 must be in [0, 1), got " + num(beta1));
    require(std::isfinite(beta2) && beta2 >= 0.0f && beta2 < 1.0f, "beta2 must be in [0, 1), got " + num(beta2));
    require(std::isfinite(eps) && eps >= 0.0f, "eps must be finite and >= 0, got " + num(eps));
    require(std::isfinite(weight_decay) && weight_decay >= 0.0f,
            "weight_decay must be finite and >= 0, got " + num(weight_decay));
}

AdamW::AdamW(NamedTensors parameters, AdamWOptions options, AdamWShard shard) : options_(options) {
    options_.validate();
    int64_t total = 0;
    for (const auto& [name, tensor] : parameters) total += tensor.defined() ? tensor.numel() : 0;
    const int64_t shard_end = shard.end < 0 ? total : shard.end;
    require(shard.begin >= 0 && shard.begin <= shard_end && shard_end <= total,
            "shard [" + std::to_string(shard.begin) + ", " + std::to_string(shard.end) + ") is outside the " +
                std::to_string(total) + " parameter elements");
    int64_t offset = 0;  // of this tensor among the parameters laid end to end
    for (auto& [name, tensor] : parameters) {
        require(!name.empty(), "parameter names must be non-empty");
        require(tensor.defined(), "parameter '" + name + "' is an undefined tensor");
        require(!index_.count(name), "parameter name '" + name + "' appears twice");
        for (const Slot& other : slots_)
            require(!other.tensor.is_same(tensor),
                    "parameters '" + other.name + "' and '" + name + "' are the same tensor");
        index_[name] = slots_.size();
        const int64_t first = std::clamp(shard.begin - offset, int64_t(0), tensor.numel());
        const int64_t last = std::clamp(shard_end - offset, int64_t(0), tensor.numel());
        const size_t n = static_cast<size_t>(std::max(int64_t(0), last - first));
        slots_.push_back(Slot{name, tensor, tensor.dim() >= 2, 0, first, std::vector<float>(n, 0.0f), std::vector<float>(n, 0.0f)});
        offset += tensor.numel();
    }
}

void AdamW::step(float grad_scale) { take_step(nullptr, grad_scale); }

void AdamW::step(std::vector<AdamWUpdateNorm>& norms, float grad_scale) { take_step(&norms, grad_scale); }

void AdamW::take_step(std::vector<AdamWUpdateNorm>* norms, float grad_scale) {
    require(std::isfinite(grad_scale) && grad_scale >= 0.0f, "step: grad_scale must be finite and >= 0, got " + num(grad_scale));
    if (norms) norms->assign(slots_.size(), AdamWUpdateNorm{});
    for (size_t k = 0; k < slots_.size(); ++k) update_parameter(k, norms ? &(*norms)[k] : nullptr, grad_scale);
    finish_step();
}

void AdamW::update_parameter(size_t k, AdamWUpdateNorm* norm, float grad_scale) {
    require(k < slots_.size(), "update_parameter: no parameter " + std::to_string(k));
    Slot& s = slots_[k];
    if (norm) *norm = AdamWUpdateNorm{s.name, 0.0, 0.0};
    const float* g = s.tensor.grad();
    if (g == nullptr) return;
    s.steps += 1;
    const StepScalars scalars = step_scalars(options_, s.decay, s.steps, grad_scale);
    float* p = s.tensor.data() + s.first;
    const int64_t n = static_cast<int64_t>(s.m.size());
    if (norm)
        adamw_update_measured(p, g + s.first, s.m.data(), s.v.data(), n, scalars, *norm);
    else
        adamw_update(p, g + s.first, s.m.data(), s.v.data(), n, scalars);
}

void AdamW::zero_grad() {
    std::vector<Tensor> tensors;
    tensors.reserve(slots_.size());
    for (const Slot& s : slots_) tensors.push_back(s.tensor);
    zero_grads(tensors);
}

void AdamW::set_lr(float lr) {
    require(std::isfinite(lr) && lr >= 0.0f, "set_lr: lr must be finite and >= 0, got " + num(lr));
    options_.lr = lr;
}

const AdamW::Slot& AdamW::slot(const std::string& name) const {
    const auto it = index_.find(name);
    require(it != index_.end(), "no parameter named '" + name + "'");
    return slots_[it->second];
}

bool AdamW::decays(const std::string& name) const { return slot(name).decay; }
std::pair<int64_t, int64_t> AdamW::owned_range(const std::string& name) const {
    const Slot& s = slot(name);
    return {s.first, s.first + static_cast<int64_t>(s.m.size())};
}
const std::vector<float>& AdamW::first_moment(const std::string& name) const { return slot(name).m; }
const std::vector<float>& AdamW::second_moment(const std::string& name) const { return slot(name).v; }

std::vector<std::pair<std::string, Shape>> AdamW::parameter_shapes() const {
    std::vector<std::pair<std::string, Shape>> shapes;
    for (const Slot& s : slots_) shapes.emplace_back(s.name, s.tensor.shape());
    return shapes;
}

AdamWState AdamW::state() const {
    AdamWState state;
    state.step = step_count_;
    for (const Slot& s : slots_) state.moments[s.name] = AdamWMoments{s.m, s.v};
    return state;
}

void AdamW::load_state(const AdamWState& state) {
    check_state(state);
    for (Slot& s : slots_) {
        const AdamWMoments& moments = state.moments.at(s.name);
        const auto [first, last] = owned_part(s, moments.m.size());
        s.m.assign(moments.m.begin() + first, moments.m.begin() + last);
        s.v.assign(moments.v.begin() + first, moments.v.begin() + last);
        s.steps = state.step;  // one count for all: every parameter of a GPT gets a gradient each step
    }
    step_count_ = state.step;
}

void AdamW::load_state(AdamWState&& state) {
    check_state(state);
    for (Slot& s : slots_) {
        AdamWMoments& moments = state.moments.at(s.name);
        if (moments.m.size() == s.m.size()) {
            s.m = std::move(moments.m);
            s.v = std::move(moments.v);
        } else {  // a sharded optimizer given the full moments
            const auto [first, last] = owned_part(s, moments.m.size());
            s.m.assign(moments.m.begin() + first, moments.m.begin() + last);
            s.v.assign(moments.v.begin() + first, moments.v.begin() + last);
        }
        s.steps = state.step;
    }
    step_count_ = state.step;
}

// The range of `size` given moments that slot s keeps: all of them when they are its own, its range
// when they are the whole parameter's (check_state allows only these two sizes).
std::pair<size_t, size_t> AdamW::owned_part(const Slot& s, size_t size) {
    if (size == s.m.size()) return {0, size};
    return {static_cast<size_t>(s.first), static_cast<size_t>(s.first) + s.m.size()};
}

void AdamW::check_state(const AdamWState& state) const {
    require(state.step >= 0, "load_state: step must be >= 0, got " + std::to_string(state.step));
    // Check everything before changing anything.
    for (const Slot& s : slots_) {
        const auto it = state.moments.find(s.name);
        require(it != state.moments.end(), "load_state: no moments for parameter '" + s.name + "'");
        const size_t n = s.m.size(), full = static_cast<size_t>(s.tensor.numel());
        const size_t given = it->second.m.size();
        require((given == n || given == full) && it->second.v.size() == given,
                "load_state: parameter '" + s.name + "' has " + std::to_string(n) + " elements, moments have " +
                    std::to_string(it->second.m.size()) + " (m) and " + std::to_string(it->second.v.size()) + " (v)");
    }
    for (const auto& [name, moments] : state.moments)
        require(index_.count(name), "load_state: moments for unknown parameter '" + name + "'");
}

}  // namespace gpt
