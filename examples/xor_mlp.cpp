// The smallest complete demonstration of backpropagation on the tape: a 2 → 8 → 1 MLP learns XOR.
//
//   h = tanh(x·W1ᵀ + b1)          x [4, 2], W1 [8, 2], b1 [8]      (tanh = 2·σ(2z) − 1, from exp ops)
//   p = σ(h·W2ᵀ + b2)             W2 [1, 8], b2 [1],  σ(z) = 1 / (1 + e^(−z))
//   L = −mean(y·log p + (1 − y)·log(1 − p))     binary cross-entropy
//
// Every step: forward records the tape, L.backward() fills the parameters' gradients, and plain SGD
// (p −= lr · dL/dp) written out below updates them. Build: cmake --build build --target xor_mlp.
#include <cstdio>
#include <vector>

#include "autograd/ops.h"

using namespace gpt;

namespace {

Tensor sigmoid(const Tensor& z) {
    Tensor one = Tensor::scalar(1.0f);
    return one / (gpt::exp(z * -1.0f) + 1.0f);
}

Tensor tanh_op(const Tensor& z) { return sigmoid(z * 2.0f) * 2.0f + -1.0f; }

Tensor random_parameter(const Shape& shape, float scale, Generator& generator) {
    Tensor t = Tensor::empty(shape, true);
    for (int64_t i = 0; i < t.numel(); ++i) t.data()[i] = scale * static_cast<float>(generator.normal());
    return t;
}

}  // namespace

int main() {
    const Tensor x = Tensor::from_vector({4, 2}, {0, 0, 0, 1, 1, 0, 1, 1});
    const Tensor y = Tensor::from_vector({4, 1}, {0, 1, 1, 0});
    Generator generator(1337);
    Tensor w1 = random_parameter({8, 2}, 1.0f, generator);
    Tensor b1 = Tensor::zeros({8}, true);
    Tensor w2 = random_parameter({1, 8}, 0.5f, generator);
    Tensor b2 = Tensor::zeros({1}, true);
    const std::vector<Tensor> parameters = {w1, b1, w2, b2};

    const float lr = 0.5f;
    const int steps = 2000;
    Tensor p;
    for (int step = 0; step <= steps; ++step) {
        for (const Tensor& param : parameters) param.zero_grad();
        Tensor h = tanh_op(linear(x, w1, b1));
        p = sigmoid(linear(h, w2, b2));
        Tensor one = Tensor::scalar(1.0f);
        Tensor bce = mean_all(y * gpt::log(p) + (one - y) * gpt::log(one - p)) * -1.0f;
        if (step % 200 == 0) std::printf("step %4d  loss %.5f\n", step, static_cast<double>(bce.item()));
        if (step == steps) break;
        bce.backward();
        for (const Tensor& param : parameters)
            for (int64_t i = 0; i < param.numel(); ++i) param.data()[i] -= lr * param.grad()[i];
    }

    std::printf("\n x1 x2 | target | prediction\n");
    bool all_right = true;
    for (int64_t n = 0; n < 4; ++n) {
        const float prediction = p.data()[n];
        all_right = all_right && ((prediction > 0.5f) == (y.data()[n] > 0.5f));
        std::printf("  %.0f  %.0f |   %.0f    | %.4f\n", static_cast<double>(x.data()[2 * n]),
                    static_cast<double>(x.data()[2 * n + 1]), static_cast<double>(y.data()[n]),
                    static_cast<double>(prediction));
    }
    std::printf("%s\n", all_right ? "XOR learned." : "XOR not learned (try another seed or more steps).");
    return all_right ? 0 : 1;
}
