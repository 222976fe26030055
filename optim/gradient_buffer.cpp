#include "optim/gradient_buffer.h"

#include <algorithm>
#include <cmath>

namespace gpt {

namespace {

size_t total_numel(const NamedTensors& parameters) {
    size_t total = 0;
    for (const auto& [name, tensor] : parameters) total += static_cast<size_t>(tensor.numel());
    return total;
}

}  // namespace

void GradientBuffer::take(const NamedTensors& parameters, bool first) {
    if (first) flat_.assign(total_numel(parameters), 0.0f);
    float* out = flat_.data();
    for (const auto& [name, tensor] : parameters) {
        const size_t n = static_cast<size_t>(tensor.numel());
        if (const float* g = tensor.grad()) {
            if (first) std::copy(g, g + n, out);
            else
                for (size_t i = 0; i < n; ++i) out[i] += g[i];
            tensor.zero_grad();
        }
        out += n;
    }
}

void GradientBuffer::give_back(const NamedTensors& parameters) const {
    const float* in = flat_.data();
    for (const auto& [name, tensor] : parameters) {
        const size_t n = static_cast<size_t>(tensor.numel());
        if (float* g = tensor.grad()) std::copy(in, in + n, g);
        in += n;
    }
}

std::string GradientBuffer::first_nonfinite(const NamedTensors& parameters) const {
    const float* in = flat_.data();
    for (const auto& [name, tensor] : parameters) {
        const size_t n = static_cast<size_t>(tensor.numel());
        for (size_t i = 0; i < n; ++i)
            if (!std::isfinite(in[i])) return name;
        in += n;
    }
    return "";
}

}  // namespace gpt
