// AdamW (Loshchilov & Hutter), step for step as torch.optim.AdamW (PyTorch 1.13, foreach=False), with
// nanoGPT's parameter groups: weight decay on tensors of two or more dimensions (matrices, embeddings),
// none on biases and LayerNorm gains (1-D).
//
// One step at step count t (t = 1 on the first step), for a parameter p with gradient g:
//   p ← p·(1 − lr·wd)                     decoupled decay (wd = 0 for 1-D parameters)
//   m ← β1·m + (1 − β1)·g
//   v ← β2·v + (1 − β2)·g²
//   p ← p − (lr / (1 − β1^t)) · m / (√v / √(1 − β2^t) + eps)
// The bias corrections are computed in double, as Python floats are in PyTorch; the per-element work
// is float32 in PyTorch's order of operations.
//
// A parameter without a gradient buffer is skipped (no decay, no moment update, its own t unchanged),
// as PyTorch skips p.grad None.
//
// Sharded (ZeRO-1, data-parallel training): an AdamW built with an AdamWShard [begin, end) over the
// parameters laid end to end (in the constructor's order) keeps moments for, and updates, only the
// elements in that range; the others are left for the ranks that own them (train/zero1.h). Each
// element's update is the same arithmetic as unsharded, so the bits are the same.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "autograd/named_tensors.h"

namespace gpt {

struct AdamWOptions {
    float lr = 1e-3f;
    float beta1 = 0.9f;
    float beta2 = 0.999f;
    float eps = 1e-8f;
    float weight_decay = 0.01f;
    // Throws std::invalid_argument naming the field, its value and the allowed range.
    void validate() const;
};

// The moments of one parameter, each with the parameter's element count.
struct AdamWMoments {
    std::vector<float> m;
    std::vector<float> v;
};

// A range of the parameters laid end to end: [begin, end) in elements; end < 0 means all of them.
struct AdamWShard {
    int64_t begin = 0;
    int64_t end = -1;
};

// What a checkpoint needs to continue exactly: the step count and the moments by parameter name.
struct AdamWState {
    int64_t step = 0;
    std::map<std::string, AdamWMoments> moments;
};

// ‖Δw‖² and ‖w‖² of one parameter over one step (Δw = w after − w before, each term in double), for
// the update-to-weight ratio ‖Δw‖ / ‖w‖ — measured inside the step instead of from a copy of the weights.
struct AdamWUpdateNorm {
    std::string name;
    double update_sq = 0.0;  // Σ (w_after − w_before)², 0 for a parameter the step skipped
    double weight_sq = 0.0;  // Σ w_before²
};

class AdamW {
public:
    // Names must be non-empty and unique, tensors defined and distinct.
    explicit AdamW(NamedTensors parameters, AdamWOptions options = {}, AdamWShard shard = {});

    // grad_scale: gradient clipping's coefficient (optim/clip.h clip_scale), applied to each gradient
    // element as the update reads it — the same float product as scaling the gradients first
    // (clip_grad_norm), without a pass of its own over them. 1: no clipping.
    void step(float grad_scale = 1.0f);
    // The same step, also filling `norms` (one entry per parameter, in the constructor's order). Each
    // parameter's sums are taken in a fixed order (blocks of 4096 elements, 8 lanes in a block: the order
    // is written out in optim/adamw.cpp): they run in parallel and do not depend on the thread count.
    void step(std::vector<AdamWUpdateNorm>& norms, float grad_scale = 1.0f);
    void zero_grad();  // zeroes every existing gradient buffer (keeps the buffers)

    // The same step one parameter at a time, for the optimizer in backward (optim/adamw_in_backward.h):
    // update_parameter(k) for each parameter k whose gradient is complete, in any order, then
    // finish_step() once. step() is exactly this over k = 0, 1, … (each parameter's update reads only
    // its own gradient and moments, so the order changes no bit).
    size_t parameter_count() const { return slots_.size(); }
    const std::string& parameter_name(size_t k) const { return slots_[k].name; }
    const Tensor& parameter(size_t k) const { return slots_[k].tensor; }
    void update_parameter(size_t k, AdamWUpdateNorm* norm = nullptr, float grad_scale = 1.0f);
    void finish_step() { step_count_ += 1; }

    void set_lr(float lr);  // the schedule's value for the coming step
    const AdamWOptions& options() const { return options_; }
    int64_t step_count() const { return step_count_; }  // step() calls so far (or as restored)

    // Parameter groups and state, by name. Throw std::invalid_argument for an unknown name. A sharded
    // optimizer's moments are those of its range within the parameter (owned_range).
    bool decays(const std::string& name) const;
    std::pair<int64_t, int64_t> owned_range(const std::string& name) const;  // [first, first + count) in the tensor
    const std::vector<float>& first_moment(const std::string& name) const;
    const std::vector<float>& second_moment(const std::string& name) const;
    std::vector<std::pair<std::string, Shape>> parameter_shapes() const;  // in the constructor's order

    AdamWState state() const;  // a copy
    // Restores the step count and every parameter's moments. Every parameter must be present with
    // moments of its size (extra names are errors too); nothing changes when it throws. A sharded
    // optimizer also takes a parameter's full moments (a checkpoint's) and keeps its range of them.
    void load_state(const AdamWState& state);
    void load_state(AdamWState&& state);  // takes the moments over instead of copying them
    void load_state(int64_t step, const std::map<std::string, AdamWMoments>& moments) {
        load_state(AdamWState{step, moments});
    }

private:
    struct Slot {
        std::string name;
        Tensor tensor;
        bool decay = false;
        int64_t steps = 0;  // this parameter's own t (PyTorch keeps one per parameter)
        int64_t first = 0;  // the owned elements [first, first + m.size()) (all unless sharded)
        std::vector<float> m;
        std::vector<float> v;
    };
    const Slot& slot(const std::string& name) const;
    void check_state(const AdamWState& state) const;
    static std::pair<size_t, size_t> owned_part(const Slot& s, size_t size);
    void take_step(std::vector<AdamWUpdateNorm>* norms, float grad_scale);

    AdamWOptions options_;
    std::vector<Slot> slots_;
    std::map<std::string, size_t> index_;
    int64_t step_count_ = 0;
};

}  // namespace gpt
