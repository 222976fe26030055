// GradientBuffer: the flat sum of micro-batch gradients that grad_accum and data-parallel ranks share.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "optim/gradient_buffer.h"

using namespace gpt;

namespace {

void set_grad(const Tensor& t, std::initializer_list<float> values) {
    float* g = t.grad_buffer();
    size_t i = 0;
    for (float v : values) g[i++] = v;
}

}  // namespace

TEST_CASE("gradient buffer: sums micro-batches in order, zeroes the gradients between them, gives the sum back") {
    const Tensor a = Tensor::zeros({2}, true), b = Tensor::zeros({3}, true);
    const NamedTensors parameters{{"a", a}, {"b", b}};
    GradientBuffer buffer;
    set_grad(a, {1.0f, 2.0f});
    set_grad(b, {0.5f, -1.0f, 1e-8f});
    buffer.take(parameters, true);
    CHECK(a.grad()[0] == 0.0f);  // zeroed for the next micro-batch's backward
    CHECK(b.grad()[2] == 0.0f);
    set_grad(a, {3.0f, 4.0f});
    set_grad(b, {0.25f, 1.0f, 1.0f});
    buffer.take(parameters, false);
    REQUIRE(buffer.flat().size() == 5);
    buffer.give_back(parameters);
    CHECK(a.grad()[0] == 4.0f);
    CHECK(a.grad()[1] == 6.0f);
    CHECK(b.grad()[0] == 0.75f);
    CHECK(b.grad()[1] == 0.0f);
    CHECK(b.grad()[2] == 1e-8f + 1.0f);  // one float addition, in micro-batch order
    CHECK(buffer.first_nonfinite(parameters).empty());
}

TEST_CASE("gradient buffer: names the first parameter with a non-finite sum; a missing gradient counts as zeros") {
    const Tensor a = Tensor::zeros({2}, true), b = Tensor::zeros({2}, true);
    const NamedTensors parameters{{"a", a}, {"b", b}};
    GradientBuffer buffer;
    set_grad(b, {1.0f, std::numeric_limits<float>::infinity()});
    buffer.take(parameters, true);  // a has no gradient buffer
    CHECK(buffer.flat()[0] == 0.0f);
    CHECK(buffer.first_nonfinite(parameters) == "b");
    set_grad(b, {1.0f, -std::numeric_limits<float>::infinity()});
    buffer.take(parameters, false);
    CHECK(std::isnan(buffer.flat()[3]));
    buffer.give_back(parameters);
    CHECK(a.grad() == nullptr);  // left without one
}
