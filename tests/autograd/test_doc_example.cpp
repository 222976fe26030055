// The worked example of docs/adding_an_op.md, compiled and tested here so the document cannot rot:
// softplus(x) = log(1 + eˣ), written as a new op with its backward closure beside the forward.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include "autograd/ops.h"
#include "op_test_util.h"

namespace gpt {

// softplus: y = log(1 + eˣ), computed as max(x, 0) + log1p(e^(−|x|)) so large |x| neither overflows
// nor loses precision. dy/dx = σ(x) = 1 / (1 + e^(−x)).
Tensor softplus(const Tensor& x) {
    Tensor out = Tensor::empty(x.shape());
    const float* xd = x.data();
    float* od = out.data();
    for (int64_t i = 0; i < x.numel(); ++i) od[i] = std::max(xd[i], 0.0f) + std::log1p(std::exp(-std::fabs(xd[i])));
    if (needs_grad({&x}))
        record(out, "softplus", {x}, [xs = x.detach()](const Grads& g) {  // dy/dx reads x: save its values
            const float* xv = xs.data();
            float* gx = g.input(0);  // dL/dx, allocated zeroed on first use; we add (+=)
            for (int64_t i = 0; i < xs.numel(); ++i) gx[i] += g.out[i] / (1.0f + std::exp(-xv[i]));  // g.out: dL/dy
        });
    return out;
}

}  // namespace gpt

using namespace gpt;

TEST_CASE("doc example: softplus forward by hand and backward by gradcheck") {
    Tensor x = Tensor::from_vector({3}, {0.0f, 100.0f, -100.0f});
    gpt::test::check_values(softplus(x), {std::log(2.0f), 100.0f, 0.0f});
    Generator gen(25);
    gpt::test::expect_gradients(
        "softplus", [](const std::vector<Tensor>& in) { return softplus(in[0]); },
        {gpt::test::random_tensor({2, 5}, gen, -3, 3)});
}
