#include "optim/clip.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

namespace gpt {

namespace {

// Each block's sum of squares is one thread's work; the blocks are then added in order. The block size
// is fixed (not derived from the thread count), so the result is the same for any number of threads.
constexpr int64_t kBlock = 8192;

bool gradient_is_finite(const float* g, int64_t n) {
    bool finite = true;
    // Not a reduction over values: a logical AND, whose result does not depend on the order.
#pragma omp parallel for schedule(static) reduction(&& : finite) if (n >= 32768)
    for (int64_t i = 0; i < n; ++i) finite = finite && std::isfinite(g[i]);
    return finite;
}

}  // namespace

double gradient_sum_of_squares(const float* g, int64_t n) {
    const int64_t blocks = (n + kBlock - 1) / kBlock;
    std::vector<double> partial(static_cast<size_t>(blocks), 0.0);
#pragma omp parallel for schedule(static) if (blocks >= 4)
    for (int64_t b = 0; b < blocks; ++b) {
        const int64_t end = std::min(n, (b + 1) * kBlock);
        double s = 0.0;
        for (int64_t i = b * kBlock; i < end; ++i) s += static_cast<double>(g[i]) * static_cast<double>(g[i]);
        partial[static_cast<size_t>(b)] = s;
    }
    double total = 0.0;
    for (double s : partial) total += s;
    return total;
}

// Every parameter's blocks in one list that the threads share (one region per step, where one per
// parameter left each small gradient's sum to one thread: `baby` has 52 parameters, 39 of them under
// 4 blocks), then each parameter's block sums added in order: the additions of
// gradient_sum_of_squares(g, n), so the same double per parameter, for any thread count.
std::vector<double> gradient_sums_of_squares(const NamedTensors& parameters) {
    struct Block {
        const float* g;
        int64_t n;
    };
    std::vector<Block> blocks;
    std::vector<size_t> first(parameters.size() + 1, 0);  // parameter k's blocks: [first[k], first[k + 1])
    for (size_t k = 0; k < parameters.size(); ++k) {
        const Tensor& tensor = parameters[k].second;
        const int64_t n = tensor.numel();
        if (const float* g = tensor.grad())
            for (int64_t i = 0; i < n; i += kBlock) blocks.push_back({g + i, std::min(kBlock, n - i)});
        first[k + 1] = blocks.size();
    }
    const int64_t count = static_cast<int64_t>(blocks.size());
    std::vector<double> partial(blocks.size(), 0.0);
#pragma omp parallel for schedule(static) if (count >= 4)
    for (int64_t b = 0; b < count; ++b) {
        const Block& block = blocks[static_cast<size_t>(b)];
        double s = 0.0;
        for (int64_t i = 0; i < block.n; ++i) s += static_cast<double>(block.g[i]) * static_cast<double>(block.g[i]);
        partial[static_cast<size_t>(b)] = s;
    }
    std::vector<double> squares(parameters.size(), 0.0);
    for (size_t k = 0; k < parameters.size(); ++k)
        for (size_t b = first[k]; b < first[k + 1]; ++b) squares[k] += partial[b];
    return squares;
}

double grad_norm(const NamedTensors& parameters) {
    double total = 0.0;
    for (double s : gradient_sums_of_squares(parameters)) total += s;
    return std::sqrt(total);
}

float clip_scale(double norm, double max_norm) {
    if (max_norm == 0.0 || !std::isfinite(norm)) return 1.0f;
    const double coef = max_norm / (norm + 1e-6);
    return coef >= 1.0 ? 1.0f : static_cast<float>(coef);
}

double clip_grad_norm(const NamedTensors& parameters, double max_norm) {
    if (!(max_norm >= 0.0))
        throw std::invalid_argument("clip_grad_norm: max_norm must be >= 0 (0 = measure only), got " +
                                    std::to_string(max_norm));
    const double norm = grad_norm(parameters);
    const float scale = clip_scale(norm, max_norm);
    if (scale == 1.0f) return norm;
    for (const auto& [name, tensor] : parameters) {
        float* g = tensor.grad();
        if (g == nullptr) continue;
        const int64_t n = tensor.numel();
#pragma omp parallel for schedule(static) if (n >= 32768)
        for (int64_t i = 0; i < n; ++i) g[i] *= scale;
    }
    return norm;
}

std::string first_nonfinite_gradient(const NamedTensors& parameters) {
    for (const auto& [name, tensor] : parameters) {
        const float* g = tensor.grad();
        if (g == nullptr) continue;
        if (!gradient_is_finite(g, tensor.numel())) return name;
    }
    return "";
}

}  // namespace gpt
