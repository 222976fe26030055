#include <doctest/doctest.h>

#include <cmath>
#include <stdexcept>
#include <vector>

#include "autograd/gradcheck.h"
#include "autograd/ops.h"
#include "common/random.h"

using namespace gpt;

namespace {

// The forward runs in float32: each probed loss carries rounding of ~1e-7 per output of the perturbed
// row, which at the default eps = 1e-3 becomes ~1e-4 in the numeric derivative, the size of the smaller
// gradients here. LayerNorm is smooth (rstd ≈ 0.5 for these inputs), so eps = 1e-2 keeps the truncation
// error (eps²/6 times the third derivative) below 1e-5 while cutting the rounding noise tenfold.
GradcheckOptions options() {
    GradcheckOptions o;
    o.epsilon = 1e-2;
    return o;
}

std::vector<float> normals(size_t n, uint64_t seed, double sd = 1.0) {
    Generator generator(seed);
    std::vector<float> v(n);
    for (float& x : v) x = static_cast<float>(sd * generator.normal());
    return v;
}

}  // namespace

TEST_CASE("layer_norm forward on a hand-computed row") {
    // Row [1, 2, 3, 4]: mean 2.5, biased variance 1.25, rstd = 1/√(1.25 + 1e-5);
    // norm = [−1.3416354, −0.4472118, 0.4472118, 1.3416354]. Weight [1, 2, 1, 1], bias [0, 0, 0.5, 0].
    Tensor x = Tensor::from_vector({1, 4}, {1, 2, 3, 4});
    Tensor w = Tensor::from_vector({4}, {1, 2, 1, 1});
    Tensor b = Tensor::from_vector({4}, {0, 0, 0.5f, 0});
    const std::vector<float> y = layer_norm(x, w, b).to_vector();
    const std::vector<double> expected{-1.3416354200, -0.8944236133, 0.9472118067, 1.3416354200};
    for (size_t i = 0; i < 4; ++i) CHECK(y[i] == doctest::Approx(expected[i]).epsilon(1e-6));

    // A constant row normalises to 0 (rstd = 1/√eps, no division by zero), leaving the bias.
    Tensor flat = Tensor::from_vector({1, 4}, {3, 3, 3, 3});
    const std::vector<float> yf = layer_norm(flat, w, b).to_vector();
    CHECK(yf[2] == doctest::Approx(0.5));
    CHECK(yf[0] == 0.0f);
}

TEST_CASE("layer_norm backward: gradcheck of x, weight and bias") {
    const int64_t N = 6, C = 10;
    Tensor x = Tensor::from_vector({2, 3, C}, normals(N * C, 1, 2.0), true);
    Tensor w = Tensor::from_vector({C}, normals(C, 2), true);
    Tensor b = Tensor::from_vector({C}, normals(C, 3), true);
    const GradcheckResult result =
        gradcheck([](const std::vector<Tensor>& in) { return layer_norm(in[0], in[1], in[2]); }, {x, w, b}, options());
    MESSAGE("layer_norm gradcheck worst relative error " << result.max_rel_error << " (" << result.worst << ")");
    CHECK(result.ok);
}

TEST_CASE("layer_norm without weight/bias, and weight-only gradients") {
    Tensor x = Tensor::from_vector({3, 5}, normals(15, 4), true);
    const GradcheckResult plain =
        gradcheck([](const std::vector<Tensor>& in) { return layer_norm(in[0], Tensor(), Tensor()); }, {x}, options());
    MESSAGE("layer_norm (no affine) gradcheck worst relative error " << plain.max_rel_error);
    CHECK(plain.ok);

    Tensor frozen = Tensor::from_vector({3, 5}, normals(15, 5));  // does not require grad
    Tensor w = Tensor::from_vector({5}, normals(5, 6), true);
    layer_norm(frozen, w, Tensor()).backward(Tensor::full({3, 5}, 1.0f));
    CHECK(frozen.grad() == nullptr);
    // dw[c] = Σ_n norm[n, c]: each column of norm computed here independently.
    const Tensor norm = layer_norm(frozen, Tensor(), Tensor());
    for (int64_t c = 0; c < 5; ++c) {
        double expected = 0.0;
        for (int64_t n = 0; n < 3; ++n) expected += norm.data()[n * 5 + c];
        CHECK(w.grad()[c] == doctest::Approx(expected).epsilon(1e-5));
    }
}

TEST_CASE("layer_norm on a large input (threaded path) is deterministic and matches a double reference") {
    const int64_t N = 512, C = 64;  // above the parallel threshold
    Tensor x = Tensor::from_vector({N, C}, normals(N * C, 8, 3.0), true);
    Tensor w = Tensor::from_vector({C}, normals(C, 9), true);
    Tensor b = Tensor::from_vector({C}, normals(C, 10), true);
    Tensor dy = Tensor::from_vector({N, C}, normals(N * C, 11));
    Tensor y = layer_norm(x, w, b);
    y.backward(dy);
    const std::vector<float> dw1 = w.grad_tensor().to_vector();
    const std::vector<float> dx1 = x.grad_tensor().to_vector();
    double worst = 0.0;
    for (int64_t n = 0; n < N; ++n) {
        const float* row = x.data() + n * C;
        double m = 0.0, var = 0.0;
        for (int64_t c = 0; c < C; ++c) m += row[c];
        m /= C;
        for (int64_t c = 0; c < C; ++c) var += (row[c] - m) * (row[c] - m);
        const double rstd = 1.0 / std::sqrt(var / C + 1e-5);
        for (int64_t c = 0; c < C; ++c) {
            const double ref = (row[c] - m) * rstd * w.data()[c] + b.data()[c];
            worst = std::max(worst, std::fabs(ref - y.data()[n * C + c]) / std::max(1.0, std::fabs(ref)));
        }
    }
    MESSAGE("layer_norm forward vs double reference: worst error " << worst);
    CHECK(worst < 1e-5);

    x.zero_grad();
    w.zero_grad();
    b.zero_grad();
    layer_norm(x, w, b).backward(dy);
    CHECK(w.grad_tensor().to_vector() == dw1);
    CHECK(x.grad_tensor().to_vector() == dx1);
}

TEST_CASE("layer_norm rejects mismatched parameters") {
    Tensor x = Tensor::zeros({2, 4});
    CHECK_THROWS_WITH_AS(layer_norm(x, Tensor::zeros({3}), Tensor()), doctest::Contains("layer_norm"),
                         std::invalid_argument);
    CHECK_THROWS_AS(layer_norm(x, Tensor(), Tensor::zeros({4, 1})), std::invalid_argument);
}
