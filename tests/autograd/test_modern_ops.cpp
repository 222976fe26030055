// The ops of the "modern recipe" options (issue 31): rms_norm, qk_rms_norm, relu_squared, swiglu —
// forward values by hand, backward by central differences, error messages, and the threaded loops
// against a serial run. tests/autograd/test_fused_reference.cpp checks them against PyTorch too.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "autograd/ops.h"
#include "autograd/ops/parallel.h"
#include "common/random.h"
#include "tests/autograd/op_test_util.h"

using namespace gpt;
using gpt::test::expect_gradients;
using gpt::test::random_tensor;

namespace {

std::vector<float> normals(size_t n, uint64_t seed, double sd = 1.0, double mean = 0.0) {
    Generator generator(seed);
    std::vector<float> v(n);
    for (float& x : v) x = static_cast<float>(mean + sd * generator.normal());
    return v;
}

// Smooth ops on O(1) inputs: eps 1e-2 keeps the float32 rounding of the probed loss out of the
// numeric derivative (as test_fused_layer_norm.cpp explains).
GradcheckOptions smooth() {
    GradcheckOptions o;
    o.epsilon = 1e-2;
    return o;
}

}  // namespace

TEST_CASE("rms_norm forward on a hand-computed row") {
    // Row [1, 2, 3, 4]: mean of squares 7.5, rstd = 1/√(7.5 + 1e-5); weight [1, 2, 1, −1].
    Tensor x = Tensor::from_vector({1, 4}, {1, 2, 3, 4});
    Tensor w = Tensor::from_vector({4}, {1, 2, 1, -1});
    const double r = 1.0 / std::sqrt(7.5 + 1e-5);
    gpt::test::check_values(rms_norm(x, w), {float(1 * r), float(4 * r), float(3 * r), float(-4 * r)}, 1e-6f);
    gpt::test::check_values(rms_norm(x, Tensor()), {float(r), float(2 * r), float(3 * r), float(4 * r)}, 1e-6f);
    // A zero row stays 0 (rstd = 1/√eps, no division by zero).
    gpt::test::check_values(rms_norm(Tensor::zeros({1, 4}), w), {0, 0, 0, 0});
}

TEST_CASE("rms_norm backward: gradcheck of x and weight, with and without a weight") {
    Tensor x = Tensor::from_vector({2, 3, 10}, normals(60, 1, 2.0, 0.5), true);
    Tensor w = Tensor::from_vector({10}, normals(10, 2, 0.5, 1.0), true);
    expect_gradients("rms_norm", [](const std::vector<Tensor>& in) { return rms_norm(in[0], in[1]); }, {x, w}, smooth());
    Tensor x2 = Tensor::from_vector({4, 7}, normals(28, 3), true);
    expect_gradients("rms_norm (no weight)", [](const std::vector<Tensor>& in) { return rms_norm(in[0], Tensor()); },
                     {x2}, smooth());
}

TEST_CASE("qk_rms_norm: q and k heads normalised with their gains, v copied; gradcheck") {
    // B 1, T 1, H 2, H_kv 1, hd 2: row [q0 | q1 | k | v] = [3 4 | 1 0 | 0 2 | 5 −6].
    Tensor qkv = Tensor::from_vector({1, 1, 8}, {3, 4, 1, 0, 0, 2, 5, -6});
    Tensor wq = Tensor::from_vector({2}, {1, 2});
    Tensor wk = Tensor::from_vector({2}, {3, 1});
    const double r0 = 1.0 / std::sqrt(12.5 + 1e-5), r1 = 1.0 / std::sqrt(0.5 + 1e-5), rk = 1.0 / std::sqrt(2.0 + 1e-5);
    gpt::test::check_values(qk_rms_norm(qkv, wq, wk, 2, 1),
                            {float(3 * r0), float(8 * r0), float(r1), 0.0f, 0.0f, float(2 * rk), 5.0f, -6.0f}, 1e-6f);

    for (int64_t H_kv : {4, 2, 1}) {
        const int64_t B = 2, T = 3, H = 4, hd = 6;
        Tensor x = Tensor::from_vector({B, T, (H + 2 * H_kv) * hd}, normals(size_t(B * T * (H + 2 * H_kv) * hd), 10 + uint64_t(H_kv), 1.5, 0.3), true);
        Tensor gq = Tensor::from_vector({hd}, normals(hd, 20, 0.5, 1.0), true);
        Tensor gk = Tensor::from_vector({hd}, normals(hd, 21, 0.5, 1.0), true);
        expect_gradients("qk_rms_norm H_kv " + std::to_string(H_kv),
                         [H, H_kv](const std::vector<Tensor>& in) { return qk_rms_norm(in[0], in[1], in[2], H, H_kv); },
                         {x, gq, gk}, smooth());
    }
}

TEST_CASE("relu_squared and swiglu: forward by hand, gradcheck") {
    Tensor x = Tensor::from_vector({5}, {-2, -0.5f, 0.5f, 1, 3});
    gpt::test::check_values(relu_squared(x), {0, 0, 0.25f, 1, 9});
    Generator generator(5);
    Tensor r = random_tensor({3, 16}, generator, -2.0f, 2.0f);
    for (int64_t i = 0; i < r.numel(); ++i)  // keep away from the kink at 0
        if (std::fabs(r.data()[i]) < 0.1f) r.data()[i] += 0.3f;
    expect_gradients("relu_squared", [](const std::vector<Tensor>& in) { return relu_squared(in[0]); }, {r});

    // swiglu([a | b]) = a·σ(a)·b: a = [0, 2], b = [3, −1].
    Tensor ab = Tensor::from_vector({1, 4}, {0, 2, 3, -1});
    const float s2 = 1.0f / (1.0f + std::exp(-2.0f));
    const Tensor y = swiglu(ab);
    CHECK(y.shape() == Shape{1, 2});
    gpt::test::check_values(y, {0.0f, -2.0f * s2});
    Tensor s = Tensor::from_vector({2, 3, 10}, normals(60, 6, 2.0), true);
    expect_gradients("swiglu", [](const std::vector<Tensor>& in) { return swiglu(in[0]); }, {s}, smooth());
}

TEST_CASE("the modern ops' error messages") {
    Tensor x = Tensor::zeros({2, 4});
    CHECK_THROWS_WITH(rms_norm(x, Tensor::zeros({3})), doctest::Contains("rms_norm: weight shape [3] does not match input [2, 4]"));
    CHECK_THROWS_WITH(rms_norm(x, Tensor(), 0.0f), doctest::Contains("rms_norm: eps must be positive"));
    CHECK_THROWS_WITH(swiglu(Tensor::zeros({2, 3})), doctest::Contains("swiglu: last axis must be even"));
    CHECK_THROWS_WITH(qk_rms_norm(Tensor::zeros({1, 2, 10}), Tensor(), Tensor(), 2, 1),
                      doctest::Contains("qk_rms_norm: causal_self_attention: qkv last dim 10 is not divisible"));
    CHECK_THROWS_WITH(qk_rms_norm(Tensor::zeros({1, 2, 8}), Tensor::zeros({3}), Tensor(), 2, 1),
                      doctest::Contains("qk_rms_norm: q_weight shape [3] does not match"));
}

TEST_CASE("the modern ops' threaded loops give the serial loops' bits") {
    // Above kParallelMin…: the ops run their row loops on the team; the reference is the same op on
    // each row alone (one row is always below the threshold, so serial).
    const int64_t N = 256, C = 128;
    Tensor x = Tensor::from_vector({N, C}, normals(size_t(N * C), 30, 1.0, 0.2), true);
    Tensor w = Tensor::from_vector({C}, normals(size_t(C), 31, 0.5, 1.0), true);
    Tensor probe = Tensor::from_vector({N, C}, normals(size_t(N * C), 32));
    REQUIRE(N * C >= kParallelMinComputeBound);
    for (int which = 0; which < 3; ++which) {
        auto op = [which, &w](const Tensor& in) {
            return which == 0 ? rms_norm(in, w) : which == 1 ? relu_squared(in) : swiglu(in);
        };
        x.zero_grad();
        Tensor y = op(x);
        sum_all(y * (which == 2 ? reshape(split(probe, {C / 2, C / 2}, 1)[0], {N, C / 2}) : probe)).backward();
        const std::vector<float> out = y.to_vector(), dx = x.grad_tensor().to_vector();
        for (int64_t n = 0; n < N; n += 37) {
            Tensor row = Tensor::from_vector({1, C}, std::vector<float>(x.data() + n * C, x.data() + (n + 1) * C), true);
            Tensor yr = op(row);
            const int64_t width = yr.size(1);
            Tensor pr = Tensor::from_vector({1, width}, std::vector<float>(probe.data() + n * C, probe.data() + n * C + width));
            sum_all(yr * pr).backward();
            for (int64_t c = 0; c < width; ++c) REQUIRE(yr.data()[c] == out[size_t(n * width + c)]);
            for (int64_t c = 0; c < C; ++c) REQUIRE(row.grad()[c] == dx[size_t(n * C + c)]);
        }
    }
}
