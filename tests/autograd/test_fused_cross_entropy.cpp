#include <doctest/doctest.h>

#include <cmath>
#include <memory>
#include <stdexcept>
#include <vector>

#include "autograd/gradcheck.h"
#include "autograd/ops.h"
#include "common/random.h"

using namespace gpt;

TEST_CASE("cross_entropy forward and gradient on hand-computed rows") {
    // Row 0: logits [0, 0, 0], target 1 → log 3 = 1.0986123.
    // Row 1: logits [1, 2, 3], target 2 → log(1 + e⁻¹ + e⁻²) = 0.4076060. Mean 0.7531091.
    Tensor logits = Tensor::from_vector({2, 3}, {0, 0, 0, 1, 2, 3}, true);
    Tensor loss = cross_entropy(logits, {1, 2});
    CHECK(loss.shape() == Shape{});
    CHECK(loss.item() == doctest::Approx(0.7531091266).epsilon(1e-6));
    loss.backward();
    // (softmax − onehot)/2: row 0 [1/3, −2/3, 1/3]/2; row 1 softmax [0.0900306, 0.2447285, 0.6652410].
    const std::vector<double> expected{1.0 / 6, -1.0 / 3, 1.0 / 6, 0.0450152866, 0.1223642355, -0.1673795221};
    for (size_t i = 0; i < 6; ++i) CHECK(logits.grad()[i] == doctest::Approx(expected[i]).epsilon(1e-6));
}

TEST_CASE("cross_entropy is stable for large logits") {
    Tensor logits = Tensor::from_vector({1, 2}, {1000.0f, 0.0f});
    CHECK(cross_entropy(logits, {1}).item() == doctest::Approx(1000.0));
    CHECK(cross_entropy(logits, {0}).item() == doctest::Approx(0.0));
}

TEST_CASE("cross_entropy gradcheck with ignored rows, over [B, T, V]") {
    Generator generator(5);
    std::vector<float> values(2 * 3 * 7);
    for (float& v : values) v = static_cast<float>(2.0 * generator.normal());
    Tensor logits = Tensor::from_vector({2, 3, 7}, values, true);
    const std::vector<int32_t> targets{3, -100, 0, 6, -100, 2};
    // The loss (≈ 2) is rounded to float32: ~1.2e-7 absolute, i.e. ~1e-4 in a central difference with
    // eps = 1e-3, as large as the smallest gradients (≈ p/4). eps = 1e-2 cuts that to 1e-5 while the
    // truncation error (eps²/6 times the third derivative of log-sum-exp) stays ~1e-6.
    GradcheckOptions options;
    options.epsilon = 1e-2;
    const GradcheckResult result = gradcheck(
        [&](const std::vector<Tensor>& in) { return cross_entropy(in[0], targets); }, {logits}, options);
    MESSAGE("cross_entropy gradcheck worst relative error " << result.max_rel_error << " (" << result.worst << ")");
    CHECK(result.ok);

    // Ignored rows get exactly zero gradient, and the mean is over the 4 valid rows only.
    for (int64_t v = 0; v < 7; ++v) {
        CHECK(logits.grad()[1 * 7 + v] == 0.0f);
        CHECK(logits.grad()[4 * 7 + v] == 0.0f);
    }
    double by_hand = 0.0;
    for (int64_t n : {0, 2, 3, 5}) {
        const float* row = logits.data() + n * 7;
        double sum = 0.0;
        for (int64_t v = 0; v < 7; ++v) sum += std::exp(static_cast<double>(row[v]));
        by_hand += std::log(sum) - row[targets[static_cast<size_t>(n)]];
    }
    CHECK(cross_entropy(logits, targets).item() == doctest::Approx(by_hand / 4).epsilon(1e-6));
    // A custom ignore index works the same way.
    std::vector<int32_t> custom = targets;
    for (int32_t& t : custom) t = t == -100 ? 7 : t;
    CHECK(cross_entropy(logits, custom, 7).item() == doctest::Approx(by_hand / 4).epsilon(1e-6));
}

TEST_CASE("cross_entropy with every row ignored: loss 0, zero gradient") {
    Tensor logits = Tensor::from_vector({2, 3}, {1, 2, 3, 4, 5, 6}, true);
    Tensor loss = cross_entropy(logits, {-100, -100});
    CHECK(loss.item() == 0.0f);
    loss.backward();
    REQUIRE(logits.grad() != nullptr);
    for (int64_t i = 0; i < 6; ++i) CHECK(logits.grad()[i] == 0.0f);
}

TEST_CASE("cross_entropy rejects bad targets with the target and V in the message") {
    Tensor logits = Tensor::zeros({2, 5});
    CHECK_THROWS_WITH_AS(cross_entropy(logits, {0, 5}), doctest::Contains("target 5"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(cross_entropy(logits, {-1, 0}), doctest::Contains("V = 5"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(cross_entropy(logits, {0}), doctest::Contains("cross_entropy"), std::invalid_argument);
}

TEST_CASE("cross_entropy on a large input (threaded path) matches a double reference") {
    const int64_t N = 64, V = 1000;
    Generator generator(9);
    std::vector<float> values(static_cast<size_t>(N * V));
    for (float& v : values) v = static_cast<float>(3.0 * generator.normal());
    std::vector<int32_t> targets(static_cast<size_t>(N));
    for (auto& t : targets) t = static_cast<int32_t>(generator.below(V));
    Tensor logits = Tensor::from_vector({N, V}, values, true);
    Tensor loss = cross_entropy(logits, targets);
    loss.backward();
    double total = 0.0, worst_grad = 0.0;
    for (int64_t n = 0; n < N; ++n) {
        const float* row = logits.data() + n * V;
        double sum = 0.0;
        for (int64_t v = 0; v < V; ++v) sum += std::exp(static_cast<double>(row[v]));
        total += std::log(sum) - row[targets[static_cast<size_t>(n)]];
        for (int64_t v = 0; v < V; ++v) {
            const double ref = (std::exp(static_cast<double>(row[v])) / sum - (v == targets[static_cast<size_t>(n)])) / N;
            worst_grad = std::max(worst_grad, std::fabs(ref - logits.grad()[n * V + v]));
        }
    }
    CHECK(loss.item() == doctest::Approx(total / N).epsilon(1e-6));
    MESSAGE("cross_entropy [64, 1000] worst absolute gradient error " << worst_grad);
    CHECK(worst_grad < 1e-7);
}

TEST_CASE("cross_entropy writes the gradient over logits nobody else holds: the same bits, ignored rows zero") {
    // logits = x·2 is an intermediate. Kept by the caller, its gradient gets a buffer of its own; dropped
    // (as in a training step), cross-entropy's backward writes the gradient over the logits' storage.
    // Either way x's gradient must be bit-identical (threaded path: N·V large).
    const int64_t N = 64, V = 3001;
    Generator generator(5);
    std::vector<float> values(static_cast<size_t>(N * V));
    for (float& v : values) v = 4.0f * generator.uniform() - 2.0f;
    std::vector<int32_t> targets(static_cast<size_t>(N));
    for (int64_t n = 0; n < N; ++n) targets[static_cast<size_t>(n)] = n % 5 == 0 ? -100 : static_cast<int32_t>((n * 37) % V);
    std::vector<std::vector<float>> grads;
    for (bool keep : {true, false}) {
        Tensor x = Tensor::from_vector({N, V}, values, true);
        Tensor kept = mul_scalar(x, 2.0f);
        const float* logits_data = kept.data();
        std::shared_ptr<AutogradMeta> meta = kept.impl()->autograd;
        meta->retain_grad = true;  // to see where the gradient went
        Tensor loss = cross_entropy(kept, targets);
        if (!keep) kept = Tensor();
        loss.backward();
        grads.emplace_back(x.grad(), x.grad() + N * V);
        REQUIRE(meta->grad);
        if (keep) {
            CHECK(kept.data()[1] == 2.0f * values[1]);  // the caller's logits were not overwritten
            CHECK(meta->grad->data != logits_data);
        } else {
            CHECK(meta->grad->data == logits_data);  // written over the logits
        }
    }
    CHECK(grads[0] == grads[1]);
    CHECK(grads[1][0] == 0.0f);  // row 0 is ignored
    CHECK(grads[1][static_cast<size_t>(V)] != 0.0f);
}

TEST_CASE("cross_entropy with label smoothing: hand-computed rows, gradcheck with ignored rows, ε = 0 unchanged") {
    // Row [1, 2, 3], target 2, ε = 0.1: lse = 3.4076060, mean logit 2;
    // loss = 0.9·(lse − 3) + 0.1·(lse − 2) = 0.9·0.4076060 + 0.1·1.4076060 = 0.5076060.
    Tensor logits = Tensor::from_vector({1, 3}, {1, 2, 3}, true);
    Tensor loss = cross_entropy(logits, {2}, -100, 0.1f);
    CHECK(loss.item() == doctest::Approx(0.5076060).epsilon(1e-6));
    loss.backward();
    // softmax − 0.9·onehot − 0.1/3.
    const std::vector<double> expected{0.0900306 - 0.1 / 3, 0.2447285 - 0.1 / 3, 0.6652410 - 0.9 - 0.1 / 3};
    for (size_t i = 0; i < 3; ++i) CHECK(logits.grad()[i] == doctest::Approx(expected[i]).epsilon(1e-5));

    Generator generator(6);
    std::vector<float> values(2 * 3 * 7);
    for (float& v : values) v = static_cast<float>(2.0 * generator.normal());
    Tensor x = Tensor::from_vector({2, 3, 7}, values, true);
    const std::vector<int32_t> targets{3, -100, 0, 6, -100, 2};
    GradcheckOptions options;
    options.epsilon = 1e-2;  // as for the unsmoothed gradcheck above
    const GradcheckResult result = gradcheck(
        [&](const std::vector<Tensor>& in) { return cross_entropy(in[0], targets, -100, 0.2f); }, {x}, options);
    MESSAGE("cross_entropy (label smoothing 0.2) gradcheck worst relative error " << result.max_rel_error);
    CHECK(result.ok);
    for (int64_t v = 0; v < 7; ++v) CHECK(x.grad()[1 * 7 + v] == 0.0f);

    // ε = 0 gives the unsmoothed loss and gradient bit for bit.
    NoGradGuard no_grad;
    CHECK(cross_entropy(x, targets, -100, 0.0f).item() == cross_entropy(x, targets).item());
    CHECK_THROWS_WITH_AS(cross_entropy(x, targets, -100, 1.5f), doctest::Contains("label_smoothing"),
                         std::invalid_argument);
}
