// A two-layer MLP trained with plain SGD on the tape: the loss must strictly drop every step, the whole
// network's gradient must pass gradcheck, and two identical runs must agree bit for bit.
#include <doctest/doctest.h>

#include <vector>

#include "autograd/ops.h"
#include "op_test_util.h"

using namespace gpt;
using gpt::test::expect_gradients;
using gpt::test::random_tensor;

namespace {

struct Mlp {
    Tensor w1, b1, w2, b2;  // [H, D], [H], [1, H], [1]
    std::vector<Tensor> parameters() const { return {w1, b1, w2, b2}; }
};

Mlp make_mlp(Generator& gen, int64_t D, int64_t H) {
    return {random_tensor({H, D}, gen, -0.5f, 0.5f), random_tensor({H}, gen, -0.1f, 0.1f),
            random_tensor({1, H}, gen, -0.5f, 0.5f), random_tensor({1}, gen, -0.1f, 0.1f)};
}

// mean((linear(relu(linear(x))) − y)²)
Tensor mse_loss(const Tensor& x, const Tensor& y, const Tensor& w1, const Tensor& b1, const Tensor& w2,
                const Tensor& b2) {
    Tensor prediction = linear(relu(linear(x, w1, b1)), w2, b2);
    Tensor error = prediction - y;
    return mean_all(error * error);
}

std::vector<float> train(uint64_t seed, int steps, float lr) {
    Generator gen(seed);
    const int64_t N = 32, D = 3, H = 16;
    Tensor x = random_tensor({N, D}, gen, -1, 1, false);
    Tensor y = Tensor::empty({N, 1});
    for (int64_t n = 0; n < N; ++n)  // a smooth target the network can fit
        y.data()[n] = x.data()[n * D] * x.data()[n * D + 1] + 0.5f * x.data()[n * D + 2];
    Mlp mlp = make_mlp(gen, D, H);
    std::vector<float> losses;
    for (int step = 0; step < steps; ++step) {
        for (const Tensor& p : mlp.parameters()) p.zero_grad();
        Tensor loss = mse_loss(x, y, mlp.w1, mlp.b1, mlp.w2, mlp.b2);
        losses.push_back(loss.item());
        loss.backward();
        for (const Tensor& p : mlp.parameters())  // plain SGD: p −= lr · dL/dp
            for (int64_t i = 0; i < p.numel(); ++i) p.data()[i] -= lr * p.grad()[i];
    }
    return losses;
}

}  // namespace

TEST_CASE("two-layer MLP: SGD makes the loss strictly drop") {
    const std::vector<float> losses = train(22, 8, 0.1f);
    for (size_t i = 1; i < losses.size(); ++i)
        CHECK_MESSAGE(losses[i] < losses[i - 1], "step " << i << ": " << losses[i - 1] << " → " << losses[i]);
    MESSAGE("MLP loss " << losses.front() << " → " << losses.back() << " in " << losses.size() << " steps");
}

TEST_CASE("two-layer MLP: training is deterministic run to run") {
    CHECK(train(23, 5, 0.1f) == train(23, 5, 0.1f));
}

TEST_CASE("two-layer MLP: gradient of the loss through every op passes gradcheck") {
    Generator gen(24);
    Tensor x = random_tensor({6, 3}, gen, -1, 1, false);
    Tensor y = random_tensor({6, 1}, gen, -1, 1, false);
    Mlp mlp = make_mlp(gen, 3, 5);
    expect_gradients(
        "mlp", [&](const std::vector<Tensor>& p) { return mse_loss(x, y, p[0], p[1], p[2], p[3]); },
        mlp.parameters());
}
