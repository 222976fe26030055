// dropout: inverted scaling, keep-rate statistics, seeded determinism, identity in eval.
#include <doctest/doctest.h>

#include <omp.h>

#include <cmath>
#include <vector>

#include "autograd/ops.h"
#include "op_test_util.h"

using namespace gpt;
using gpt::test::expect_gradients;

TEST_CASE("dropout keeps about 1 − p and scales kept values by 1/(1 − p)") {
    const int64_t n = 100000;
    const float p = 0.3f;
    Tensor x = Tensor::full({n}, 2.0f);
    Generator gen(19);
    Tensor y = dropout(x, p, true, gen);
    int64_t kept = 0, other = 0;
    double total = 0.0;
    for (int64_t i = 0; i < n; ++i) {
        const float v = y.data()[i];
        if (v != 0.0f) ++kept;
        if (v != 0.0f && std::fabs(v - 2.0f / 0.7f) > 1e-5f) ++other;
        total += v;
    }
    CHECK(other == 0);  // every value is either dropped or 2 / (1 − p)
    const double keep_rate = static_cast<double>(kept) / n;
    MESSAGE("keep rate " << keep_rate << " (expected 0.7), mean " << total / n << " (expected 2)");
    // Binomial standard deviation √(p(1−p)/n) ≈ 0.0014: 5σ bounds.
    CHECK(std::fabs(keep_rate - 0.7) < 0.0075);
    CHECK(std::fabs(total / n - 2.0) < 0.03);
}

TEST_CASE("dropout is deterministic for a seed and identity in eval or at p = 0") {
    Tensor x = Tensor::full({1000}, 1.0f, true);
    Generator g1(7), g2(7), g3(8);
    Tensor a = dropout(x, 0.5f, true, g1);
    Tensor b = dropout(x, 0.5f, true, g2);
    Tensor c = dropout(x, 0.5f, true, g3);
    CHECK(a.to_vector() == b.to_vector());
    CHECK(a.to_vector() != c.to_vector());

    Generator g4(7);
    const auto before = g4.state();
    CHECK(dropout(x, 0.5f, false, g4).is_same(x));
    CHECK(dropout(x, 0.0f, true, g4).is_same(x));
    CHECK(g4.state() == before);  // no draws

    CHECK_THROWS_WITH(dropout(x, 1.0f, true, g4), doctest::Contains("dropout: p must be in [0, 1)"));
    CHECK_THROWS_WITH(dropout(x, -0.1f, true, g4), doctest::Contains("dropout"));
}

TEST_CASE("dropout backward uses the forward's mask") {
    Tensor x = Tensor::from_vector({6}, {1, 2, 3, 4, 5, 6}, true);
    Generator gen(20);
    Tensor y = dropout(x, 0.5f, true, gen);
    sum_all(y).backward();
    for (int64_t i = 0; i < 6; ++i) CHECK(x.grad()[i] == doctest::Approx(y.data()[i] / x.data()[i]));
    // gradcheck with a fresh generator per call: every evaluation draws the same mask.
    expect_gradients(
        "dropout",
        [](const std::vector<Tensor>& in) {
            Generator g(21);
            return dropout(in[0], 0.4f, true, g);
        },
        {Tensor::from_vector({2, 4}, {0.5f, -1, 2, 0.1f, -0.3f, 1.5f, 0.7f, -2}, true)});
}

TEST_CASE("dropout's mask does not depend on the thread count (counter-based: bit-exact resume at any count)") {
    const int64_t n = int64_t(1) << 20;  // well above the parallel threshold
    Tensor x = Tensor::full({n}, 1.0f);
    const int saved = omp_get_max_threads();
    std::vector<std::vector<float>> outputs;
    for (int threads : {1, 2, 3}) {
        omp_set_num_threads(threads);
        Generator gen(23);
        outputs.push_back(dropout(x, 0.25f, true, gen).to_vector());
    }
    omp_set_num_threads(saved);
    CHECK(outputs[0] == outputs[1]);
    CHECK(outputs[0] == outputs[2]);
}
