// rope: hand-computed rotations, the NeoX pairing against a plain double loop (above the threading
// threshold), relative-position invariance of q·k, the gradient, and the error messages.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "autograd/ops.h"
#include "tests/autograd/op_test_util.h"

using namespace gpt;
using gpt::test::check_values;
using gpt::test::expect_gradients;
using gpt::test::random_tensor;

namespace {

// Plain double NeoX rotation of element (t, j) of a row of W floats whose first n heads (hd wide) rotate.
double naive_rope(const std::vector<float>& x, int64_t t, int64_t W, int64_t hd, int64_t n, int64_t offset,
                  int64_t j) {
    if (j >= n * hd) return x[t * W + j];
    const int64_t head = j / hd, i = j % hd, half = hd / 2, k = i % half;
    const double a = static_cast<double>(offset + t) * std::pow(10000.0, -2.0 * k / hd);
    const double lo = x[t * W + head * hd + k], hi = x[t * W + head * hd + k + half];
    return i < half ? lo * std::cos(a) - hi * std::sin(a) : hi * std::cos(a) + lo * std::sin(a);
}

}  // namespace

TEST_CASE("rope rotates the pair (i, i + hd/2) by p·10000^(-2i/hd)") {
    // hd 4: pairs (0, 2) at angle p and (1, 3) at angle p/100. Position 0 is the identity; position p
    // turns (1, 0, 0, 0) into (cos p, 0, sin p, 0) and (0, 1, 0, 0) into (0, cos p/100, 0, sin p/100).
    const Tensor x = Tensor::from_vector({1, 2, 4}, {1, 0, 0, 0, 0, 1, 0, 0});
    check_values(rope(x, 4, 1), {1, 0, 0, 0, 0, std::cos(1e-2f), 0, std::sin(1e-2f)});
    check_values(rope(x, 4, 1, 1), {std::cos(1.0f), 0, std::sin(1.0f), 0, 0, std::cos(2e-2f), 0, std::sin(2e-2f)});
}

TEST_CASE("rope matches a double loop; heads past rotated_heads pass through (threaded size)") {
    Generator generator(3);
    const int64_t B = 4, T = 64, hd = 16, W = 10 * hd;  // 6 rotated heads + 4 copied: 40960 floats
    const Tensor x = random_tensor({B, T, W}, generator, -1, 1, false);
    const std::vector<float> xv = x.to_vector(), y = rope(x, hd, 6, 5).to_vector();
    double worst = 0.0;
    for (int64_t b = 0; b < B; ++b) {
        const std::vector<float> rows(xv.begin() + b * T * W, xv.begin() + (b + 1) * T * W);  // sequence b
        for (int64_t t = 0; t < T; ++t)
            for (int64_t j = 0; j < W; ++j)
                worst = std::max(worst, std::fabs(y[(b * T + t) * W + j] - naive_rope(rows, t, W, hd, 6, 5, j)));
    }
    CHECK(worst < 1e-5);
}

TEST_CASE("rope: q·k depends only on the distance between positions") {
    Generator generator(4);
    const Tensor q = random_tensor({1, 1, 8}, generator), k = random_tensor({1, 1, 8}, generator);
    auto dot_at = [&](int64_t pq, int64_t pk) {
        const std::vector<float> a = rope(q, 8, 1, pq).to_vector(), b = rope(k, 8, 1, pk).to_vector();
        double s = 0.0;
        for (size_t i = 0; i < a.size(); ++i) s += double(a[i]) * b[i];
        return s;
    };
    CHECK(dot_at(7, 3) == doctest::Approx(dot_at(4, 0)).epsilon(1e-5));
    CHECK(dot_at(30, 10) == doctest::Approx(dot_at(20, 0)).epsilon(1e-5));
}

TEST_CASE("rope gradient (rotated and copied heads, an offset)") {
    Generator generator(5);
    expect_gradients(
        "rope", [](const std::vector<Tensor>& in) { return rope(in[0], 4, 2, 3); },
        {random_tensor({2, 3, 12}, generator)});
}

TEST_CASE("rope error messages") {
    const Tensor x = Tensor::zeros({1, 2, 8});
    CHECK_THROWS_WITH(rope(x, 3, 1), doctest::Contains("rope: head_dim 3 must be positive and even"));
    CHECK_THROWS_WITH(rope(x, 4, 3), doctest::Contains("rope: 3 rotated heads of 4 do not fit"));
    CHECK_THROWS_WITH(rope(x, 4, 1, -1), doctest::Contains("rope: position_offset -1 is negative"));
    CHECK_THROWS_WITH(rope(Tensor::zeros({8}), 4, 1), doctest::Contains("rope: x must be [B, T, W]"));
}
