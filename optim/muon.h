// Muon (Keller Jordan, 2024: "Muon: an optimizer for hidden layers in neural networks"): momentum SGD whose
// update for a weight matrix is replaced by the nearest semi-orthogonal matrix, computed by a few steps of
// a quintic Newton–Schulz iteration. It is used for the 2-D weights inside the transformer blocks only;
// the embeddings, the output head and every 1-D parameter (norm gains, biases) stay with AdamW
// (`muon_takes`). The trainer runs both (optimizer = "muon" in train/config.h).
//
// One step at step count t, for a weight W [rows, cols] with gradient g (times the clip coefficient):
//   buf ← μ·buf + g                               momentum (μ = momentum)
//   u   ← nesterov ? g + μ·buf : buf
//   O   ← NewtonSchulz(u)                         ≈ U·Vᵀ of u = U·S·Vᵀ (all singular values pushed near 1)
//   W   ← W·(1 − lr·wd) − lr·√max(1, rows/cols)·O
// NewtonSchulz(u), with (a, b, c) = (3.4445, −4.7750, 2.0315) and `ns_steps` iterations:
//   X ← u / (‖u‖_F + 1e-7);  X ← Xᵀ when rows > cols (so X·Xᵀ is the smaller Gram matrix)
//   repeat: A ← X·Xᵀ;  B ← b·A + c·A·A;  X ← a·X + B·X
//   transpose back.
// The reference implementation runs the iteration in bfloat16 on a GPU; here it is float32 on the
// project's own matrix products (autograd matmul), so each step is bitwise the same for any thread count.
// Cost: ns_steps × (4·m²·n + 2·m³) flops for m = min(rows, cols), n = max — for small models on a CPU a
// sizeable fraction of the forward and backward (docs/speedrun.md measures it).
//
// Data-parallel training: every rank holds the same gradients after the sum and runs the same step, so
// Muon's momentum is not sharded (ZeRO-1 shards only AdamW's moments).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "autograd/named_tensors.h"
#include "optim/adamw.h"

namespace gpt {

struct MuonOptions {
    float lr = 0.02f;
    float momentum = 0.95f;
    bool nesterov = true;
    int64_t ns_steps = 5;
    float ns_a = 3.4445f, ns_b = -4.7750f, ns_c = 2.0315f;
    float weight_decay = 0.0f;  // decoupled, as AdamW's
    // Throws std::invalid_argument naming the field, its value and the allowed range.
    void validate() const;
};

// What a checkpoint needs to continue exactly: the step count and each matrix's momentum buffer.
struct MuonState {
    int64_t step = 0;
    std::map<std::string, std::vector<float>> momentum;
};

// The parameter grouping: true for a 2-D weight inside a transformer block, shape [rows, cols]: "h.<i>.…"
// (GPT, BERT), "encoder.h.<i>.…" and "decoder.h.<i>.…" (the encoder–decoder, cross attention included).
bool muon_takes(const std::string& name, const Shape& shape);

class Muon {
public:
    // Every parameter must be 2-D; names non-empty and unique.
    explicit Muon(NamedTensors parameters, MuonOptions options = {});

    // One step over every parameter that has a gradient (the others are skipped, as AdamW skips them).
    // grad_scale: gradient clipping's coefficient (optim/clip.h), applied as the gradient is read.
    // norms, when given, gets ‖ΔW‖² and ‖W‖² per parameter (in the constructor's order), summed in
    // element order in double.
    void step(float grad_scale = 1.0f, std::vector<AdamWUpdateNorm>* norms = nullptr);

    void set_lr(float lr) { options_.lr = lr; }
    const MuonOptions& options() const { return options_; }
    int64_t step_count() const { return step_count_; }
    const NamedTensors& parameters() const { return parameters_; }
    const std::vector<float>& momentum(const std::string& name) const;

    MuonState state() const;  // a copy
    // Restores the step count and every parameter's momentum (each present, of its size; no extra names);
    // nothing changes when it throws std::invalid_argument.
    void load_state(MuonState state);

private:
    void update(size_t k, float grad_scale, AdamWUpdateNorm* norm);

    MuonOptions options_;
    NamedTensors parameters_;
    std::vector<std::vector<float>> momentum_;  // one per parameter, in the constructor's order
    int64_t step_count_ = 0;
};

// The orthogonalised update of `u` [rows, cols] by `options`' Newton–Schulz iteration (above), as a new
// row-major [rows, cols] buffer. Exposed for the test against PyTorch.
std::vector<float> newton_schulz(const std::vector<float>& u, int64_t rows, int64_t cols, const MuonOptions& options);

}  // namespace gpt
