// matmul (2-D, batched, transpose_b, shared 2-D b) and linear: forward by hand, backward by gradcheck.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include "autograd/ops.h"
#include "op_test_util.h"

using namespace gpt;
using gpt::test::check_values;
using gpt::test::expect_gradients;
using gpt::test::random_tensor;

namespace {

// Reference C[M, N] = A[M, K]·B[K, N] (or A·Bᵀ with B [N, K]) in double.
std::vector<float> naive_matmul(const float* A, const float* B, int64_t M, int64_t K, int64_t N, bool transpose_b) {
    std::vector<float> C(static_cast<size_t>(M * N));
    for (int64_t i = 0; i < M; ++i)
        for (int64_t j = 0; j < N; ++j) {
            double acc = 0.0;
            for (int64_t k = 0; k < K; ++k) acc += A[i * K + k] * (transpose_b ? B[j * K + k] : B[k * N + j]);
            C[static_cast<size_t>(i * N + j)] = static_cast<float>(acc);
        }
    return C;
}

}  // namespace

TEST_CASE("matmul 2-D forward by hand") {
    Tensor a = Tensor::from_vector({2, 3}, {1, 2, 3, 4, 5, 6});
    Tensor b = Tensor::from_vector({3, 2}, {7, 8, 9, 10, 11, 12});
    // [1 2 3; 4 5 6]·[7 8; 9 10; 11 12] = [58 64; 139 154]
    check_values(matmul(a, b), {58, 64, 139, 154});
    Tensor bt = Tensor::from_vector({2, 3}, {7, 9, 11, 8, 10, 12});  // the same b, stored as [N, K]
    check_values(matmul(a, bt, true), {58, 64, 139, 154});
}

TEST_CASE("batched matmul forward matches per-batch products") {
    Generator gen(4);
    const int64_t B = 2, H = 3, M = 4, K = 5, N = 6;
    Tensor a = random_tensor({B, H, M, K}, gen, -1, 1, false);
    for (bool transpose_b : {false, true}) {
        Tensor b = random_tensor(transpose_b ? Shape{B, H, N, K} : Shape{B, H, K, N}, gen, -1, 1, false);
        Tensor c = matmul(a, b, transpose_b);
        REQUIRE(c.shape() == Shape{B, H, M, N});
        for (int64_t i = 0; i < B * H; ++i) {
            std::vector<float> expected = naive_matmul(a.data() + i * M * K, b.data() + i * K * N, M, K, N, transpose_b);
            for (int64_t e = 0; e < M * N; ++e) CHECK(c.data()[i * M * N + e] == doctest::Approx(expected[e]));
        }
        Tensor shared = random_tensor(transpose_b ? Shape{N, K} : Shape{K, N}, gen, -1, 1, false);
        Tensor d = matmul(a, shared, transpose_b);
        REQUIRE(d.shape() == Shape{B, H, M, N});
        for (int64_t i = 0; i < B * H; ++i) {
            std::vector<float> expected = naive_matmul(a.data() + i * M * K, shared.data(), M, K, N, transpose_b);
            for (int64_t e = 0; e < M * N; ++e) CHECK(d.data()[i * M * N + e] == doctest::Approx(expected[e]));
        }
    }
}

TEST_CASE("matmul gradients: 2-D, batched, transpose_b, shared 2-D b") {
    Generator gen(5);
    struct Case {
        Shape a, b;
        bool transpose_b;
    };
    const std::vector<Case> cases = {
        {{3, 4}, {4, 5}, false},       {{3, 4}, {5, 4}, true},       {{2, 3, 4}, {2, 4, 5}, false},
        {{2, 3, 4}, {2, 5, 4}, true},  {{2, 2, 3, 4}, {4, 5}, false}, {{2, 2, 3, 4}, {5, 4}, true},
    };
    for (const Case& c : cases) {
        const std::string name = "matmul " + shape_str(c.a) + " " + shape_str(c.b) + (c.transpose_b ? " T" : "");
        const bool tb = c.transpose_b;
        expect_gradients(
            name, [tb](const std::vector<Tensor>& in) { return matmul(in[0], in[1], tb); },
            {random_tensor(c.a, gen), random_tensor(c.b, gen)});
    }
}

TEST_CASE("matmul shape errors name the op and both shapes") {
    CHECK_THROWS_WITH(matmul(Tensor::zeros({2, 3}), Tensor::zeros({4, 5})),
                      doctest::Contains("matmul: inner dimensions differ: a [2, 3], b [4, 5]"));
    CHECK_THROWS_WITH(matmul(Tensor::zeros({2, 3, 4}), Tensor::zeros({3, 4, 5})),
                      doctest::Contains("matmul: batch axes differ"));
    CHECK_THROWS_WITH(matmul(Tensor::zeros({3}), Tensor::zeros({3, 4})), doctest::Contains("matmul"));
    CHECK_THROWS_WITH(matmul(Tensor::zeros({2, 3}), Tensor::zeros({5, 4}), true),
                      doctest::Contains("[5, 4] (transpose_b)"));
}

TEST_CASE("linear forward by hand") {
    Tensor x = Tensor::from_vector({2, 3}, {1, 2, 3, -1, 0, 1});
    Tensor w = Tensor::from_vector({2, 3}, {1, 0, -1, 2, 1, 0});  // [out = 2, in = 3]
    Tensor b = Tensor::from_vector({2}, {0.5f, -1});
    // row 0: [1−3, 2+2] + b = [−1.5, 3]; row 1: [−1−1, −2+0] + b = [−1.5, −3]
    check_values(linear(x, w, b), {-1.5f, 3, -1.5f, -3});
    check_values(linear(x, w, Tensor()), {-2, 4, -2, -2});
}

TEST_CASE("linear gradients: 2-D and 3-D x, with and without bias") {
    Generator gen(6);
    Tensor w = random_tensor({5, 4}, gen);
    Tensor b = random_tensor({5}, gen);
    expect_gradients(
        "linear 2-D", [](const std::vector<Tensor>& in) { return linear(in[0], in[1], in[2]); },
        {random_tensor({3, 4}, gen), w, b});
    expect_gradients(
        "linear 3-D", [](const std::vector<Tensor>& in) { return linear(in[0], in[1], in[2]); },
        {random_tensor({2, 3, 4}, gen), w, b});
    expect_gradients(
        "linear no bias", [](const std::vector<Tensor>& in) { return linear(in[0], in[1], Tensor()); },
        {random_tensor({2, 3, 4}, gen), w});
}

TEST_CASE("linear matches matmul + add on a large input (threaded bias reduction)") {
    Generator gen(7);
    Tensor x = random_tensor({64, 16, 40}, gen);
    Tensor w = random_tensor({96, 40}, gen);
    Tensor b = random_tensor({96}, gen);
    Tensor g = random_tensor({64, 16, 96}, gen, -1, 1, false);
    linear(x, w, b).backward(g);
    Tensor x2 = x.detach().clone(), w2 = w.detach().clone(), b2 = b.detach().clone();
    for (Tensor* t : {&x2, &w2, &b2}) t->set_requires_grad(true);
    Tensor y2 = matmul(x2, w2, true) + b2;
    y2.backward(g);
    for (auto [p, q] : {std::pair{&x, &x2}, std::pair{&w, &w2}, std::pair{&b, &b2}}) {
        float worst = 0.0f;
        for (int64_t i = 0; i < p->numel(); ++i) worst = std::max(worst, std::fabs(p->grad()[i] - q->grad()[i]));
        CHECK(worst < 1e-3f);
    }
    CHECK_THROWS_WITH(linear(x, Tensor::zeros({96, 41}), b), doctest::Contains("linear: x's last axis"));
    CHECK_THROWS_WITH(linear(x, w, Tensor::zeros({95})), doctest::Contains("linear: bias must be [out]"));
}
