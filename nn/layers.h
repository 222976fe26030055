// The basic layers, each usable on its own. Weights are stored as PyTorch stores them, so a checkpoint
// maps 1:1 onto a torch state_dict.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "autograd/ops.h"
#include "nn/module.h"

namespace gpt {

// y = x·Wᵀ + b; W [out, in], b [out] (optional). x [..., in] → [..., out].
// For generation a bf16 copy of W can be kept beside it (keep_bf16_copy): forward then reads the copy
// whenever no gradient is recorded (grad mode off: NoGradGuard), and W itself otherwise, so training
// never sees it. The copy is a snapshot of W's values when it was made; make it again after W changes.
class Linear : public Module {
public:
    Linear(int64_t in_features, int64_t out_features, bool bias = true);
    Tensor forward(const Tensor& x) const {
        return weight_bf16_.empty() || grad_enabled() ? linear(x, weight, bias) : linear_bf16(x, weight_bf16_, bias);
    }
    // true: round W to bf16 now (autograd/bf16.h) and keep the copy; false: drop it.
    void keep_bf16_copy(bool on) { weight_bf16_ = on ? Bf16Matrix::round(weight) : Bf16Matrix{}; }
    bool has_bf16_copy() const { return !weight_bf16_.empty(); }
    const Bf16Matrix& bf16_weight() const { return weight_bf16_; }

    Tensor weight;
    Tensor bias;  // undefined when constructed without bias

private:
    Bf16Matrix weight_bf16_;  // empty unless keep_bf16_copy(true)
};

// Lookup table: ids (any shape) → ids.shape + [C]; weight [V, C].
class Embedding : public Module {
public:
    Embedding(int64_t num_embeddings, int64_t embedding_dim);
    Tensor forward(const std::vector<int32_t>& ids, const Shape& ids_shape) const {
        return embedding(weight, ids, ids_shape);
    }

    Tensor weight;
};

// Normalises each row of the last axis C; weight [C] (ones), bias [C] (zeros, optional).
class LayerNorm : public Module {
public:
    explicit LayerNorm(int64_t features, bool bias = true, float eps = 1e-5f);
    Tensor forward(const Tensor& x) const { return layer_norm(x, weight, bias, eps_); }

    Tensor weight;
    Tensor bias;

private:
    float eps_;
};

// The normalisation a block uses (GPTConfig::norm): LayerNorm (weight [C], bias [C] when `bias`) or
// RMSNorm (weight [C] only, whatever `bias` says), registered under the same names as LayerNorm.
class Norm : public Module {
public:
    Norm(const std::string& kind, int64_t features, bool bias = true, float eps = 1e-5f);
    Tensor forward(const Tensor& x) const { return rms_ ? rms_norm(x, weight, eps_) : layer_norm(x, weight, bias, eps_); }
    // x + y and this norm of it (a residual and the next sublayer's input): LayerNorm fuses the two
    // (add_layer_norm: one pass where there were two, the same bits); RMSNorm adds, then normalises.
    AddNorm add_forward(const Tensor& x, const Tensor& y) const;
    bool rms() const { return rms_; }

    Tensor weight;
    Tensor bias;  // undefined for RMSNorm or without bias

private:
    bool rms_;
    float eps_;
};

// Inverted dropout with probability p, active in train mode only; randomness from the caller's generator.
class Dropout : public Module {
public:
    explicit Dropout(float p);
    Tensor forward(const Tensor& x, Generator& generator) const {
        return dropout(x, p_, is_training(), generator);
    }
    float p() const { return p_; }

private:
    float p_;
};

}  // namespace gpt
