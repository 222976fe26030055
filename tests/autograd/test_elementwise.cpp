// add/sub/mul/div with broadcasting, scalar ops, exp, log, relu: forward by hand, backward by gradcheck.
#include <doctest/doctest.h>

#include <cmath>

#include "autograd/ops.h"
#include "op_test_util.h"

using namespace gpt;
using gpt::test::check_values;
using gpt::test::expect_gradients;
using gpt::test::random_tensor;

TEST_CASE("binary ops: same-shape forward values") {
    Tensor a = Tensor::from_vector({2, 2}, {1, 2, 3, 4});
    Tensor b = Tensor::from_vector({2, 2}, {2, -1, 0.5f, 8});
    check_values(a + b, {3, 1, 3.5f, 12});
    check_values(a - b, {-1, 3, 2.5f, -4});
    check_values(a * b, {2, -2, 1.5f, 32});
    check_values(a / b, {0.5f, -2, 6, 0.5f});
    check_values(a + 1.5f, {2.5f, 3.5f, 4.5f, 5.5f});
    check_values(a * -2.0f, {-2, -4, -6, -8});
    check_values(gpt::exp(Tensor::from_vector({2}, {0, 1})), {1, std::exp(1.0f)});
    check_values(gpt::log(Tensor::from_vector({2}, {1, std::exp(2.0f)})), {0, 2});
    check_values(relu(Tensor::from_vector({3}, {-1, 0, 2})), {0, 0, 2});
}

TEST_CASE("broadcast forward: [2, 3] + [3] and [2, 1, 4] * [3, 1]") {
    Tensor a = Tensor::from_vector({2, 3}, {1, 2, 3, 4, 5, 6});
    Tensor b = Tensor::from_vector({3}, {10, 20, 30});
    Tensor c = a + b;
    CHECK(c.shape() == Shape{2, 3});
    check_values(c, {11, 22, 33, 14, 25, 36});
    check_values(b - a, {9, 18, 27, 6, 15, 24});

    Tensor x = Tensor::from_vector({2, 1, 4}, {1, 2, 3, 4, 5, 6, 7, 8});
    Tensor y = Tensor::from_vector({3, 1}, {1, 10, 100});
    Tensor z = x * y;
    REQUIRE(z.shape() == Shape{2, 3, 4});
    for (int i = 0; i < 2; ++i)
        for (int j = 0; j < 3; ++j)
            for (int k = 0; k < 4; ++k)
                CHECK(z.data()[(i * 3 + j) * 4 + k] == x.data()[i * 4 + k] * y.data()[j]);

    Tensor s = Tensor::scalar(2.0f);
    check_values(a / s, {0.5f, 1, 1.5f, 2, 2.5f, 3});
}

TEST_CASE("binary ops: gradients, with and without broadcasting") {
    Generator gen(1);
    struct Case {
        Shape a, b;
    };
    const std::vector<Case> cases = {{{2, 3}, {2, 3}}, {{2, 3}, {3}},       {{3}, {2, 3}},    {{2, 1, 4}, {3, 1}},
                                     {{4, 1}, {1, 5}}, {{2, 3, 4}, {1, 3, 1}}, {{2, 3}, {}}, {{1}, {3, 2}}};
    for (const Case& c : cases) {
        const std::string shapes = shape_str(c.a) + " " + shape_str(c.b);
        Tensor a = random_tensor(c.a, gen);
        Tensor b = random_tensor(c.b, gen, 0.5f, 2.0f);  // away from zero for div
        expect_gradients("add " + shapes, [](const std::vector<Tensor>& in) { return in[0] + in[1]; }, {a, b});
        expect_gradients("sub " + shapes, [](const std::vector<Tensor>& in) { return in[0] - in[1]; }, {a, b});
        expect_gradients("mul " + shapes, [](const std::vector<Tensor>& in) { return in[0] * in[1]; }, {a, b});
        expect_gradients("div " + shapes, [](const std::vector<Tensor>& in) { return in[0] / in[1]; }, {a, b});
    }
}

TEST_CASE("unary ops: gradients") {
    Generator gen(2);
    Tensor x = random_tensor({3, 4}, gen);
    Tensor positive = random_tensor({3, 4}, gen, 0.5f, 3.0f);
    expect_gradients("add_scalar", [](const std::vector<Tensor>& in) { return in[0] + 3.0f; }, {x});
    expect_gradients("mul_scalar", [](const std::vector<Tensor>& in) { return in[0] * -1.5f; }, {x});
    expect_gradients("exp", [](const std::vector<Tensor>& in) { return gpt::exp(in[0]); }, {x});
    expect_gradients("log", [](const std::vector<Tensor>& in) { return gpt::log(in[0]); }, {positive});
    // relu's kink: keep inputs away from 0 so central differences do not straddle it.
    for (int64_t i = 0; i < x.numel(); ++i)
        if (std::fabs(x.data()[i]) < 0.05f) x.data()[i] = 0.1f;
    expect_gradients("relu", [](const std::vector<Tensor>& in) { return relu(in[0]); }, {x});
}

TEST_CASE("broadcast errors name the op and both shapes") {
    Tensor a = Tensor::zeros({2, 3});
    Tensor b = Tensor::zeros({4});
    CHECK_THROWS_WITH(add(a, b), doctest::Contains("add: shapes [2, 3] and [4] do not broadcast"));
    CHECK_THROWS_WITH(mul(a, Tensor::zeros({3, 3})), doctest::Contains("mul: shapes [2, 3] and [3, 3]"));
    CHECK_THROWS_WITH(div(b, a), doctest::Contains("div"));
    CHECK_THROWS_WITH(sub(a, b), doctest::Contains("sub"));
}

TEST_CASE("a tensor feeding several ops accumulates its gradient") {
    // L = Σ (x·x + 3x + x/y), dL/dx = 2x + 3 + 1/y, dL/dy = −x/y²
    Tensor x = Tensor::from_vector({3}, {1, -2, 0.5f}, true);
    Tensor y = Tensor::from_vector({3}, {2, 4, -1}, true);
    Tensor loss = sum_all(x * x + x * 3.0f + x / y);
    loss.backward();
    for (int i = 0; i < 3; ++i) {
        const float xv = x.data()[i], yv = y.data()[i];
        CHECK(x.grad()[i] == doctest::Approx(2 * xv + 3 + 1 / yv));
        CHECK(y.grad()[i] == doctest::Approx(-xv / (yv * yv)));
    }
    // A second backward adds on top (gradients accumulate until zero_grad).
    sum_all(x * 2.0f).backward();
    CHECK(x.grad()[0] == doctest::Approx(2 * 1 + 3 + 0.5 + 2));
}

TEST_CASE("inputs that do not require grad get no gradient; no_grad records nothing") {
    Tensor x = Tensor::from_vector({2}, {1, 2}, true);
    Tensor c = Tensor::from_vector({2}, {3, 4});
    sum_all(x * c).backward();
    CHECK(c.grad() == nullptr);
    CHECK(x.grad()[1] == doctest::Approx(4));
    NoGradGuard guard;
    Tensor y = x * c;
    CHECK_FALSE(y.requires_grad());
    CHECK(y.grad_fn() == nullptr);
}

TEST_CASE("large broadcasts (threaded paths) match a plain loop") {
    // [64, 32, 48] * [32, 48] and + [48]: above the threading threshold; b's gradient is a reduction over
    // the broadcast axis, computed by column blocks in parallel.
    Generator gen(3);
    const int64_t B = 64, T = 32, C = 48;
    Tensor a = random_tensor({B, T, C}, gen);
    Tensor w = random_tensor({T, C}, gen);
    Tensor bias = random_tensor({C}, gen);
    Tensor out = a * w + bias;
    Tensor g = random_tensor({B, T, C}, gen, -1.0f, 1.0f, false);
    out.backward(g);
    float worst = 0.0f;
    for (int64_t i = 0; i < B * T * C; ++i) {
        const int64_t tc = i % (T * C), c = i % C;
        worst = std::max(worst, std::fabs(out.data()[i] - (a.data()[i] * w.data()[tc] + bias.data()[c])));
        worst = std::max(worst, std::fabs(a.grad()[i] - g.data()[i] * w.data()[tc]));
    }
    CHECK(worst < 1e-6f);
    for (int64_t tc = 0; tc < T * C; ++tc) {
        double expected = 0.0;
        for (int64_t b = 0; b < B; ++b) expected += g.data()[b * T * C + tc] * a.data()[b * T * C + tc];
        CHECK_MESSAGE(std::fabs(w.grad()[tc] - expected) < 1e-4, "w grad " << tc);
    }
    for (int64_t c = 0; c < C; ++c) {
        double expected = 0.0;
        for (int64_t r = 0; r < B * T; ++r) expected += g.data()[r * C + c];
        CHECK(std::fabs(bias.grad()[c] - expected) < 1e-3);
    }
}
