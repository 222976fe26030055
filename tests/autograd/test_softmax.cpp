// softmax / log_softmax over the last axis, and causal_mask.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "autograd/ops.h"
#include "op_test_util.h"

using namespace gpt;
using gpt::test::check_values;
using gpt::test::expect_gradients;
using gpt::test::random_tensor;

TEST_CASE("softmax and log_softmax forward by hand, stable for large logits") {
    Tensor x = Tensor::from_vector({2, 3}, {0, 0, std::log(2.0f), 1000, 1000, 1000});
    check_values(softmax(x), {0.25f, 0.25f, 0.5f, 1 / 3.0f, 1 / 3.0f, 1 / 3.0f});
    check_values(log_softmax(x),
                 {std::log(0.25f), std::log(0.25f), std::log(0.5f), -std::log(3.0f), -std::log(3.0f), -std::log(3.0f)});
}

TEST_CASE("softmax and log_softmax gradients") {
    Generator gen(16);
    Tensor x = random_tensor({2, 3, 5}, gen, -2, 2);
    expect_gradients("softmax", [](const std::vector<Tensor>& in) { return softmax(in[0]); }, {x});
    expect_gradients("log_softmax", [](const std::vector<Tensor>& in) { return log_softmax(in[0]); }, {x});
}

TEST_CASE("causal_mask forward, gradient, and softmax after it") {
    Tensor s = Tensor::from_vector({1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
    Tensor m = causal_mask(s);
    const float inf = std::numeric_limits<float>::infinity();
    const std::vector<float> expected = {1, -inf, -inf, 4, 5, -inf, 7, 8, 9};
    CHECK(m.to_vector() == expected);
    Tensor p = softmax(m);
    CHECK(p.data()[0] == 1.0f);
    CHECK(p.data()[1] == 0.0f);
    CHECK(p.data()[5] == 0.0f);
    Generator gen(17);
    expect_gradients("softmax(causal_mask)",
                     [](const std::vector<Tensor>& in) { return softmax(causal_mask(in[0])); },
                     {random_tensor({2, 2, 4, 4}, gen)});
    CHECK_THROWS_WITH(causal_mask(Tensor::zeros({2, 3, 4})), doctest::Contains("causal_mask: needs scores [..., T, T], got [2, 3, 4]"));
}

TEST_CASE("softmax rows of a large input sum to one") {
    Generator gen(18);
    Tensor x = random_tensor({256, 200}, gen, -5, 5, false);
    Tensor y = softmax(x);
    for (int64_t r = 0; r < 256; ++r) {
        double total = 0.0;
        for (int64_t c = 0; c < 200; ++c) total += y.data()[r * 200 + c];
        CHECK(total == doctest::Approx(1.0).epsilon(1e-5));
    }
}
