// embedding: row gather forward, deterministic scatter-add backward.
#include <doctest/doctest.h>

#include "autograd/ops.h"
#include "op_test_util.h"

using namespace gpt;
using gpt::test::check_values;
using gpt::test::expect_gradients;
using gpt::test::random_tensor;

TEST_CASE("embedding gathers rows") {
    Tensor w = Tensor::from_vector({3, 2}, {0, 1, 10, 11, 20, 21});
    Tensor out = embedding(w, {2, 0, 2, 1}, {2, 2});
    CHECK(out.shape() == Shape{2, 2, 2});
    check_values(out, {20, 21, 0, 1, 20, 21, 10, 11});
}

TEST_CASE("embedding backward scatter-adds repeated ids") {
    Tensor w = Tensor::zeros({3, 2}, true);
    Tensor out = embedding(w, {2, 0, 2}, {3});
    out.backward(Tensor::from_vector({3, 2}, {1, 2, 3, 4, 5, 6}));
    check_values(w.grad_tensor(), {3, 4, 0, 0, 6, 8});  // row 2 gets rows 0 and 2 of g; row 1 nothing
    Generator gen(14);
    expect_gradients(
        "embedding", [](const std::vector<Tensor>& in) { return embedding(in[0], {1, 3, 1, 0, 3, 3}, {2, 3}); },
        {random_tensor({4, 5}, gen)});
}

TEST_CASE("embedding on a large batch is deterministic and matches a serial scatter") {
    Generator gen(15);
    const int64_t V = 50, C = 200, N = 512;
    std::vector<int32_t> ids(N);
    for (auto& id : ids) id = static_cast<int32_t>(gen.below(V));
    Tensor g = random_tensor({N, C}, gen, -1, 1, false);
    Tensor w = random_tensor({V, C}, gen);
    embedding(w, ids, {N}).backward(g);
    std::vector<float> first = w.grad_tensor().to_vector();
    w.zero_grad();
    embedding(w, ids, {N}).backward(g);
    CHECK(w.grad_tensor().to_vector() == first);
    std::vector<float> serial(static_cast<size_t>(V * C), 0.0f);
    for (int64_t n = 0; n < N; ++n)
        for (int64_t c = 0; c < C; ++c) serial[static_cast<size_t>(ids[n] * C + c)] += g.data()[n * C + c];
    CHECK(serial == first);  // same order of additions: bit-identical
}

TEST_CASE("embedding errors") {
    Tensor w = Tensor::zeros({3, 2});
    CHECK_THROWS_WITH(embedding(w, {0, 3}, {2}), doctest::Contains("embedding: id 3 at position 1 is outside [0, 3)"));
    CHECK_THROWS_WITH(embedding(w, {0, 1}, {3}), doctest::Contains("embedding: 2 ids do not fill ids_shape [3]"));
    CHECK_THROWS_WITH(embedding(Tensor::zeros({3}), {0}, {1}), doctest::Contains("embedding: weight must be [V, C]"));
}
