// reshape (a recorded view), transpose/permute, split/concat.
#include <doctest/doctest.h>

#include "autograd/ops.h"
#include "op_test_util.h"

using namespace gpt;
using gpt::test::check_values;
using gpt::test::expect_gradients;
using gpt::test::random_tensor;

TEST_CASE("reshape is a view on the tape") {
    Tensor x = Tensor::from_vector({2, 3}, {1, 2, 3, 4, 5, 6}, true);
    Tensor y = reshape(x, {3, -1});
    CHECK(y.shape() == Shape{3, 2});
    CHECK(y.data() == x.data());  // shares storage
    CHECK(y.grad_fn() != nullptr);
    Generator gen(10);
    expect_gradients("reshape", [](const std::vector<Tensor>& in) { return reshape(in[0], {4, 6}); },
                     {random_tensor({2, 3, 4}, gen)});
    CHECK_THROWS_WITH(reshape(x, {4, 2}), doctest::Contains("[2, 3]"));
}

TEST_CASE("transpose and permute forward by hand") {
    Tensor x = Tensor::from_vector({2, 3}, {1, 2, 3, 4, 5, 6});
    Tensor t = transpose(x, 0, 1);
    CHECK(t.shape() == Shape{3, 2});
    check_values(t, {1, 4, 2, 5, 3, 6});
    Tensor y = Tensor::from_vector({2, 2, 3}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});
    Tensor p = permute(y, {1, 0, 2});  // [B, T, C] → [T, B, C]
    CHECK(p.shape() == Shape{2, 2, 3});
    check_values(p, {0, 1, 2, 6, 7, 8, 3, 4, 5, 9, 10, 11});
    Tensor q = permute(y, {2, 0, 1});
    CHECK(q.shape() == Shape{3, 2, 2});
    for (int64_t c = 0; c < 3; ++c)
        for (int64_t b = 0; b < 2; ++b)
            for (int64_t t2 = 0; t2 < 2; ++t2) CHECK(q.data()[(c * 2 + b) * 2 + t2] == y.data()[(b * 2 + t2) * 3 + c]);
}

TEST_CASE("transpose and permute gradients") {
    Generator gen(11);
    Tensor x = random_tensor({2, 3, 4, 5}, gen);
    expect_gradients("transpose(1, 2)", [](const std::vector<Tensor>& in) { return transpose(in[0], 1, 2); }, {x});
    expect_gradients("transpose(-1, -2)", [](const std::vector<Tensor>& in) { return transpose(in[0], -1, -2); },
                     {x});
    expect_gradients("permute(0, 2, 1, 3)",
                     [](const std::vector<Tensor>& in) { return permute(in[0], {0, 2, 1, 3}); }, {x});
    expect_gradients("permute(3, 1, 0, 2)",
                     [](const std::vector<Tensor>& in) { return permute(in[0], {3, 1, 0, 2}); }, {x});
    CHECK_THROWS_WITH(permute(x, {0, 1, 1, 2}), doctest::Contains("permute: order (0, 1, 1, 2) is not a permutation"));
    CHECK_THROWS_WITH(permute(x, {0, 1}), doctest::Contains("permute"));
    CHECK_THROWS_WITH(transpose(x, 0, 4), doctest::Contains("transpose: axis 4 out of range"));
}

TEST_CASE("split and concat forward by hand") {
    Tensor x = Tensor::from_vector({2, 3}, {1, 2, 3, 4, 5, 6});
    std::vector<Tensor> parts = split(x, {1, 2}, 1);
    REQUIRE(parts.size() == 2);
    CHECK(parts[0].shape() == Shape{2, 1});
    check_values(parts[0], {1, 4});
    check_values(parts[1], {2, 3, 5, 6});
    Tensor back = concat(parts, 1);
    CHECK(back.shape() == Shape{2, 3});
    check_values(back, x.to_vector());
    Tensor rows = concat({x, Tensor::from_vector({1, 3}, {7, 8, 9})}, 0);
    CHECK(rows.shape() == Shape{3, 3});
    check_values(rows, {1, 2, 3, 4, 5, 6, 7, 8, 9});
}

TEST_CASE("split and concat gradients") {
    Generator gen(12);
    Tensor x = random_tensor({2, 6, 3}, gen);
    // Weight the pieces differently so a piece's gradient landing in the wrong slot would show.
    expect_gradients(
        "split axis 1",
        [](const std::vector<Tensor>& in) {
            std::vector<Tensor> p = split(in[0], {1, 3, 2}, 1);
            return concat({p[2] * 2.0f, p[0], p[1] * -1.0f}, 1);
        },
        {x});
    expect_gradients(
        "split axis -1 (only one piece used)",
        [](const std::vector<Tensor>& in) { return split(in[0], {2, 1}, -1)[0]; }, {x});
    expect_gradients(
        "concat axis 0",
        [](const std::vector<Tensor>& in) { return concat({in[0], in[1], in[0]}, 0); },
        {random_tensor({2, 3}, gen), random_tensor({1, 3}, gen)});
    CHECK_THROWS_WITH(split(x, {2, 2}, 1), doctest::Contains("split: sizes (2, 2) sum to 4"));
    CHECK_THROWS_WITH(concat({x, Tensor::zeros({2, 5, 4})}, 1),
                      doctest::Contains("concat: shapes [2, 6, 3] and [2, 5, 4] differ outside axis 1"));
}

TEST_CASE("large permute (threaded path) round-trips") {
    Generator gen(13);
    Tensor x = random_tensor({4, 64, 8, 32}, gen, -1, 1, false);  // [B, T, H, hd]
    Tensor y = permute(permute(x, {0, 2, 1, 3}), {0, 2, 1, 3});
    CHECK(y.to_vector() == x.to_vector());
}
