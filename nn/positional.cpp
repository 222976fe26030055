#include "nn/positional.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <string>

namespace gpt {

static void check_range(const char* who, int64_t T, int64_t start, int64_t block_size) {
    if (T < 0 || start < 0 || start + T > block_size)
        throw std::invalid_argument(std::string(who) + ": positions " + std::to_string(start) + ".." +
                                    std::to_string(start + T - 1) + " exceed block_size " + std::to_string(block_size));
}

LearnedPositionalEmbedding::LearnedPositionalEmbedding(int64_t block_size, int64_t n_embd) : block_size_(block_size) {
    weight = register_parameter("weight", Tensor::zeros({block_size, n_embd}));
}

Tensor LearnedPositionalEmbedding::forward(int64_t T, int64_t start) const {
    check_range("LearnedPositionalEmbedding", T, start, block_size_);
    std::vector<int32_t> positions(static_cast<size_t>(T));
    std::iota(positions.begin(), positions.end(), static_cast<int32_t>(start));
    return embedding(weight, positions, {T});
}

SinusoidalPositionalEncoding::SinusoidalPositionalEncoding(int64_t block_size, int64_t n_embd) {
    table_ = Tensor::empty({block_size, n_embd});
    for (int64_t p = 0; p < block_size; ++p) {
        for (int64_t j = 0; j < n_embd; ++j) {
            const int64_t two_i = j - (j % 2);
            // Computed in double, rounded once to float, as a float64 torch reference would.
            const double angle = static_cast<double>(p) / std::pow(10000.0, static_cast<double>(two_i) / n_embd);
            table_.data()[p * n_embd + j] = static_cast<float>(j % 2 == 0 ? std::sin(angle) : std::cos(angle));
        }
    }
}

Tensor SinusoidalPositionalEncoding::forward(int64_t T, int64_t start) const {
    check_range("SinusoidalPositionalEncoding", T, start, table_.size(0));
    const int64_t C = table_.size(1);
    Tensor out = Tensor::empty({T, C});
    std::copy_n(table_.data() + start * C, T * C, out.data());
    return out;
}

}  // namespace gpt
