#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "autograd/gradcheck.h"
#include "autograd/ops.h"
#include "common/random.h"

using namespace gpt;

TEST_CASE("gelu forward matches GPT-2's tanh formula at hand-computed points") {
    // 0.5·x·(1 + tanh(√(2/π)(x + 0.044715x³))) evaluated in double by hand.
    Tensor x = Tensor::from_vector({6}, {0.0f, 1.0f, -1.0f, 2.0f, -3.0f, 0.5f});
    const std::vector<double> expected{0.0, 0.8411919906, -0.1588080094, 1.9545976941, -0.0036373921, 0.3457140098};
    const std::vector<float> y = gelu(x).to_vector();
    for (size_t i = 0; i < expected.size(); ++i) CHECK(y[i] == doctest::Approx(expected[i]).epsilon(1e-6));
}

TEST_CASE("gelu backward: derivative 0.5 at 0, and gradcheck on random inputs") {
    Tensor zero = Tensor::from_vector({1}, {0.0f}, true);
    gelu(zero).backward();
    CHECK(zero.grad()[0] == doctest::Approx(0.5));

    Generator generator(7);
    std::vector<float> values(40);
    for (float& v : values) v = static_cast<float>(2.0 * generator.normal());
    Tensor x = Tensor::from_vector({5, 8}, values, true);
    const GradcheckResult result = gradcheck([](const std::vector<Tensor>& in) { return gelu(in[0]); }, {x});
    MESSAGE("gelu gradcheck worst relative error " << result.max_rel_error << " (" << result.worst << ")");
    CHECK(result.ok);
}

TEST_CASE("gelu keeps relative precision in the negative tail and stays finite far out") {
    // The tanh form's 1 + tanh u cancels to ~1e-5 near x = −4 in float32; the σ(2u) form does not.
    auto gelu_double = [](double v) {
        return 0.5 * v * (1.0 + std::tanh(std::sqrt(2.0 / 3.14159265358979323846) * (v + 0.044715 * v * v * v)));
    };
    const std::vector<float> points{-4.0f, -4.5f, -5.0f, -12.0f, -100.0f, 12.0f, 100.0f};
    Tensor x = Tensor::from_vector({7}, points, true);
    const std::vector<float> y = gelu(x).to_vector();
    for (size_t i = 0; i < 3; ++i) CHECK(y[i] == doctest::Approx(gelu_double(points[i])).epsilon(1e-5));
    CHECK(std::fabs(y[3]) < 1e-30f);
    CHECK(std::fabs(y[4]) < 1e-30f);
    CHECK(y[5] == 12.0f);
    CHECK(y[6] == 100.0f);
    gelu(x).backward(Tensor::full({7}, 1.0f));
    for (size_t i = 0; i < 7; ++i) CHECK(std::isfinite(x.grad()[i]));
    CHECK(std::fabs(x.grad()[4]) < 1e-25f);
    CHECK(x.grad()[6] == 1.0f);
}

TEST_CASE("gelu backward equals a double-precision derivative of the formula") {
    auto gelu_double = [](double v) {
        return 0.5 * v * (1.0 + std::tanh(std::sqrt(2.0 / 3.14159265358979323846) * (v + 0.044715 * v * v * v)));
    };
    std::vector<float> points;
    for (int k = -40; k <= 40; ++k) points.push_back(0.125f * static_cast<float>(k));
    Tensor x = Tensor::from_vector({static_cast<int64_t>(points.size())}, points, true);
    gelu(x).backward(Tensor::full(x.shape(), 1.0f));
    double worst = 0.0;
    for (size_t i = 0; i < points.size(); ++i) {
        const double h = 1e-5;
        const double numeric = (gelu_double(points[i] + h) - gelu_double(points[i] - h)) / (2 * h);
        worst = std::max(worst, std::fabs(numeric - x.grad()[i]));
    }
    MESSAGE("gelu derivative vs double central difference on [-5, 5]: worst absolute error " << worst);
    CHECK(worst < 1e-6);
}

TEST_CASE("gelu accumulates into an existing gradient and is threaded identically on large inputs") {
    const int64_t n = 1 << 16;  // above the parallel threshold
    Generator generator(3);
    std::vector<float> values(static_cast<size_t>(n));
    for (float& v : values) v = static_cast<float>(generator.normal());
    Tensor x = Tensor::from_vector({n}, values, true);
    Tensor ones = Tensor::full({n}, 1.0f);
    gelu(x).backward(ones);
    const std::vector<float> once = x.grad_tensor().to_vector();
    gelu(x).backward(ones);
    const std::vector<float> twice = x.grad_tensor().to_vector();
    for (int64_t i = 0; i < n; i += 997) CHECK(twice[static_cast<size_t>(i)] == 2.0f * once[static_cast<size_t>(i)]);
}

TEST_CASE("gelu_erf (exact GELU, PyTorch's default) at hand-computed points, and its backward") {
    // x·Φ(x) = ½·x·(1 + erf(x/√2)) in double.
    Tensor x = Tensor::from_vector({6}, {0.0f, 1.0f, -1.0f, 2.0f, -3.0f, 0.5f});
    const std::vector<double> expected{0.0, 0.8413447460685429, -0.15865525393145707, 1.9544997361036416,
                                       -0.00404969409489031, 0.34573123063700656};
    const std::vector<float> y = gelu_erf(x).to_vector();
    for (size_t i = 0; i < expected.size(); ++i) CHECK(y[i] == doctest::Approx(expected[i]).epsilon(1e-6));
    // It differs from the tanh form (the reason it exists): at x = -3 by 4e-4.
    CHECK(std::fabs(gelu(x).to_vector()[4] - y[4]) > 3e-4);

    Tensor zero = Tensor::from_vector({1}, {0.0f}, true);
    gelu_erf(zero).backward();
    CHECK(zero.grad()[0] == doctest::Approx(0.5));  // Φ(0) + 0·φ(0)
    Generator generator(8);
    std::vector<float> values(40);
    for (float& v : values) v = static_cast<float>(2.0 * generator.normal());
    // |y| reaches ~4 here, so a float32 output rounds by ~2e-7: at the default ε = 1e-3 that is ~1e-4 in a
    // central difference, 10 % of a derivative near the 1e-3 floor; ε = 1e-2 (truncation ~1e-5) and a
    // 1e-2 floor judge those near-zero derivatives absolutely instead.
    GradcheckOptions options;
    options.epsilon = 1e-2;
    options.abs_floor = 1e-2;
    const GradcheckResult result = gradcheck([](const std::vector<Tensor>& in) { return gelu_erf(in[0]); },
                                             {Tensor::from_vector({5, 8}, values, true)}, options);
    MESSAGE("gelu_erf gradcheck worst relative error " << result.max_rel_error << " (" << result.worst << ")");
    CHECK(result.ok);
}
