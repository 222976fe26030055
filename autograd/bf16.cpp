#include "autograd/bf16.h"

#include <string>

namespace gpt {

Bf16Matrix Bf16Matrix::round(const Tensor& weight) {
    check(weight.defined() && weight.dim() == 2, "Bf16Matrix",
          "needs a 2-D weight, got " + (weight.defined() ? shape_str(weight.shape()) : std::string("undefined")));
    Bf16Matrix m;
    m.rows = weight.size(0);
    m.cols = weight.size(1);
    m.bits.resize(static_cast<size_t>(m.rows * m.cols));
    const float* w = weight.data();
    uint16_t* out = m.bits.data();
    const int64_t n = m.rows * m.cols;
#pragma omp parallel for schedule(static) if (n >= (1 << 16))
    for (int64_t i = 0; i < n; ++i) out[i] = bf16_round(w[i]);
    return m;
}

}  // namespace gpt
