// sum/mean over an axis (keepdim or not) and over everything.
#include <doctest/doctest.h>

#include <cmath>

#include "autograd/ops.h"
#include "op_test_util.h"

using namespace gpt;
using gpt::test::check_values;
using gpt::test::expect_gradients;
using gpt::test::random_tensor;

TEST_CASE("sum and mean forward by hand") {
    Tensor x = Tensor::from_vector({2, 3}, {1, 2, 3, 4, 5, 6});
    check_values(sum(x, 0), {5, 7, 9});
    check_values(sum(x, 1), {6, 15});
    check_values(sum(x, -1), {6, 15});
    check_values(mean(x, 0), {2.5f, 3.5f, 4.5f});
    check_values(mean(x, 1), {2, 5});
    CHECK(sum(x, 1).shape() == Shape{2});
    CHECK(sum(x, 1, true).shape() == Shape{2, 1});
    CHECK(mean(x, 0, true).shape() == Shape{1, 3});
    CHECK(sum_all(x).shape() == Shape{});
    CHECK(sum_all(x).item() == 21.0f);
    CHECK(mean_all(x).item() == 3.5f);
    Tensor y = Tensor::from_vector({2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8});
    check_values(sum(y, 1), {4, 6, 12, 14});  // the middle axis: [o, n, inner] with inner = 2
}

TEST_CASE("sum and mean gradients over every axis") {
    Generator gen(8);
    Tensor x = random_tensor({2, 3, 4}, gen);
    for (int64_t axis : {0, 1, 2, -1})
        for (bool keepdim : {false, true}) {
            const std::string tag = " axis " + std::to_string(axis) + (keepdim ? " keepdim" : "");
            expect_gradients(
                "sum" + tag, [axis, keepdim](const std::vector<Tensor>& in) { return sum(in[0], axis, keepdim); }, {x});
            expect_gradients(
                "mean" + tag, [axis, keepdim](const std::vector<Tensor>& in) { return mean(in[0], axis, keepdim); },
                {x});
        }
    expect_gradients("sum_all", [](const std::vector<Tensor>& in) { return sum_all(in[0]); }, {x});
    expect_gradients("mean_all", [](const std::vector<Tensor>& in) { return mean_all(in[0]); }, {x});
}

TEST_CASE("reductions on large inputs match double sums and are deterministic") {
    Generator gen(9);
    const int64_t R = 300, C = 200;
    Tensor x = random_tensor({R, C}, gen, -1, 1, false);
    Tensor s0 = sum(x, 0), s1 = sum(x, 1);
    for (int64_t c = 0; c < C; ++c) {
        double expected = 0.0;
        for (int64_t r = 0; r < R; ++r) expected += x.data()[r * C + c];
        CHECK(std::fabs(s0.data()[c] - expected) < 1e-3);
    }
    for (int64_t r = 0; r < R; ++r) {
        double expected = 0.0;
        for (int64_t c = 0; c < C; ++c) expected += x.data()[r * C + c];
        CHECK(std::fabs(s1.data()[r] - expected) < 1e-3);
    }
    double total = 0.0;
    for (int64_t i = 0; i < R * C; ++i) total += x.data()[i];
    CHECK(std::fabs(sum_all(x).item() - total) < 1e-3);
    CHECK(sum_all(x).item() == sum_all(x).item());
    CHECK(sum(x, 0).to_vector() == s0.to_vector());
}

TEST_CASE("reduction errors name the op and the shape") {
    Tensor x = Tensor::zeros({2, 3});
    CHECK_THROWS_WITH(sum(x, 2), doctest::Contains("sum: axis 2 out of range for shape [2, 3]"));
    CHECK_THROWS_WITH(mean(x, -3), doctest::Contains("mean: axis -3"));
    CHECK_THROWS_WITH(mean_all(Tensor::zeros({0})), doctest::Contains("mean_all"));
}
