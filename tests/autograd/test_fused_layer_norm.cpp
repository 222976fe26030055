#include <doctest/doctest.h>

#include <omp.h>

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

// ---- add_layer_norm: the residual add fused with the LayerNorm that reads it ----

TEST_CASE("add_layer_norm forward: the sum, and the layer_norm of it, bit for bit") {
    // Rows [1, 2, 3, 4] + [0, 0, 0, 0] and [0.5, 1, 1.5, 2] + [0.5, 1, 1.5, 2]: both sums are [1, 2, 3, 4],
    // whose LayerNorm the test above computed by hand.
    Tensor x = Tensor::from_vector({2, 4}, {1, 2, 3, 4, 0.5f, 1, 1.5f, 2});
    Tensor y = Tensor::from_vector({2, 4}, {0, 0, 0, 0, 0.5f, 1, 1.5f, 2});
    Tensor w = Tensor::from_vector({4}, {1, 2, 1, 1});
    Tensor b = Tensor::from_vector({4}, {0, 0, 0.5f, 0});
    const AddNorm r = add_layer_norm(x, y, w, b);
    CHECK(r.sum.shape() == Shape{2, 4});
    CHECK(r.sum.to_vector() == std::vector<float>{1, 2, 3, 4, 1, 2, 3, 4});
    const std::vector<double> expected{-1.3416354200, -0.8944236133, 0.9472118067, 1.3416354200};
    for (size_t i = 0; i < 8; ++i) CHECK(r.normed.data()[i] == doctest::Approx(expected[i % 4]).epsilon(1e-6));

    // On random rows, with and without the affine parameters: exactly add, then layer_norm.
    Tensor a = Tensor::from_vector({3, 7, 33}, normals(693, 20, 2.0));
    Tensor c = Tensor::from_vector({3, 7, 33}, normals(693, 21));
    Tensor rw = Tensor::from_vector({33}, normals(33, 22)), rb = Tensor::from_vector({33}, normals(33, 23));
    for (bool affine : {true, false}) {
        const Tensor pw = affine ? rw : Tensor(), pb = affine ? rb : Tensor();
        const AddNorm fused = add_layer_norm(a, c, pw, pb, 1e-3f);
        const Tensor sum = add(a, c);
        CHECK(fused.sum.to_vector() == sum.to_vector());
        CHECK(fused.normed.to_vector() == layer_norm(sum, pw, pb, 1e-3f).to_vector());
    }
}

TEST_CASE("add_layer_norm backward: gradcheck of x, y, weight and bias, through either output or both") {
    const int64_t C = 10;
    Tensor x = Tensor::from_vector({2, 3, C}, normals(6 * C, 31, 2.0), true);
    Tensor y = Tensor::from_vector({2, 3, C}, normals(6 * C, 32), true);
    Tensor w = Tensor::from_vector({C}, normals(C, 33), true);
    Tensor b = Tensor::from_vector({C}, normals(C, 34), true);
    auto fused = [](const std::vector<Tensor>& in) { return add_layer_norm(in[0], in[1], in[2], in[3]); };
    // Both outputs read (the sum also scaled, so its term is not the normed term's twin). The sum's term
    // makes each probed loss larger and its float32 rounding with it: ~1e-5 absolute in the numeric
    // derivative, so gradients below 1e-2 are judged absolutely (a gradient of 1e-3 came out 1.0 % off).
    GradcheckOptions both_options = options();
    both_options.abs_floor = 1e-2;
    const GradcheckResult both = gradcheck(
        [&](const std::vector<Tensor>& in) {
            const AddNorm r = fused(in);
            return r.normed + r.sum * 0.7f;
        },
        {x, y, w, b}, both_options);
    MESSAGE("add_layer_norm (both outputs) gradcheck worst relative error " << both.max_rel_error << " (" << both.worst << ")");
    CHECK(both.ok);
    const GradcheckResult normed =
        gradcheck([&](const std::vector<Tensor>& in) { return fused(in).normed; }, {x, y, w, b}, options());
    MESSAGE("add_layer_norm (normed only) gradcheck worst relative error " << normed.max_rel_error);
    CHECK(normed.ok);
    // Only the sum read: no gradient reaches the norm, so the parameters get none.
    w.zero_grad();
    b.zero_grad();
    const GradcheckResult sum = gradcheck(
        [&](const std::vector<Tensor>& in) { return add_layer_norm(in[0], in[1], w, b).sum; }, {x, y}, options());
    CHECK(sum.ok);
    fused({x, y, w, b}).sum.backward(Tensor::full({2, 3, C}, 1.0f));
    CHECK(w.grad_tensor().to_vector() == std::vector<float>(C, 0.0f));
    // One tensor as both operands: its gradient is twice d.
    const GradcheckResult twice = gradcheck(
        [](const std::vector<Tensor>& in) {
            const AddNorm r = add_layer_norm(in[0], in[0], in[1], Tensor());
            return r.normed + r.sum;
        },
        {x, w}, options());
    MESSAGE("add_layer_norm (x + x) gradcheck worst relative error " << twice.max_rel_error);
    CHECK(twice.ok);
}

namespace {

// L = Σ normed ⊙ r1 + Σ sum ⊙ r2 through add_layer_norm (fused) or add then layer_norm, at `threads`
// threads, on rows above the parallel thresholds; returns both outputs and every gradient concatenated.
std::vector<float> add_norm_run(bool fused, int threads) {
    const int previous = omp_get_max_threads();
    omp_set_num_threads(threads);
    const int64_t N = 1000, C = 96;
    Tensor x = Tensor::from_vector({N, C}, normals(N * C, 41, 2.0), true);
    Tensor y = Tensor::from_vector({N, C}, normals(N * C, 42), true);
    Tensor w = Tensor::from_vector({C}, normals(C, 43), true);
    Tensor b = Tensor::from_vector({C}, normals(C, 44), true);
    Tensor r1 = Tensor::from_vector({N, C}, normals(N * C, 45));
    Tensor r2 = Tensor::from_vector({N, C}, normals(N * C, 46));
    AddNorm r;
    if (fused) {
        r = add_layer_norm(x, y, w, b);
    } else {
        r.sum = add(x, y);
        r.normed = layer_norm(r.sum, w, b);
    }
    (r.normed * r1 + r.sum * r2).backward(Tensor::full({N, C}, 1.0f));
    std::vector<float> all = r.sum.to_vector();
    for (const Tensor& t : {r.normed.detach(), x.grad_tensor(), y.grad_tensor(), w.grad_tensor(), b.grad_tensor()}) {
        const std::vector<float> v = t.to_vector();
        all.insert(all.end(), v.begin(), v.end());
    }
    omp_set_num_threads(previous);
    return all;
}

}  // namespace

TEST_CASE("add_layer_norm gives the bits of add then layer_norm, forward and backward, for 1, 2 and 3 threads") {
    const std::vector<float> unfused = add_norm_run(false, 1);
    const std::vector<float> one = add_norm_run(true, 1);
    CHECK(one == unfused);
    CHECK(add_norm_run(true, 2) == one);
    CHECK(add_norm_run(true, 3) == one);
}

TEST_CASE("add_layer_norm rejects operands of different shapes and bad parameters") {
    Tensor x = Tensor::zeros({2, 4});
    CHECK_THROWS_WITH_AS(add_layer_norm(x, Tensor::zeros({1, 4}), Tensor(), Tensor()),
                         doctest::Contains("add_layer_norm: x [2, 4] and y [1, 4] must have one shape"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(add_layer_norm(x, x, Tensor::zeros({3}), Tensor()),
                         doctest::Contains("add_layer_norm: weight shape [3]"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(add_layer_norm(x, x, Tensor(), Tensor(), 0.0f), doctest::Contains("eps must be positive"),
                         std::invalid_argument);
}
