#include <doctest/doctest.h>

#include <stdexcept>

#include "autograd/tensor.h"

using namespace gpt;

// A hand-written op (y = 3·x) recorded through the public record() API, so the tape itself is tested
// independently of the op library.
static Tensor triple(const Tensor& x) {
    Tensor out = Tensor::empty(x.shape());
    for (int64_t i = 0; i < x.numel(); ++i) out.data()[i] = 3.0f * x.data()[i];
    if (needs_grad({&x}))
        record(out, "triple", {x}, [x](TensorImpl& o) {
            float* gx = x.grad_buffer();
            for (int64_t i = 0; i < o.numel; ++i) gx[i] += 3.0f * o.grad->data[i];
        });
    return out;
}

TEST_CASE("factories, shape and views") {
    Tensor t = Tensor::from_vector({2, 3}, {1, 2, 3, 4, 5, 6});
    CHECK(t.numel() == 6);
    CHECK(t.size(-1) == 3);
    Tensor v = t.view({3, -1});
    CHECK(v.shape() == Shape{3, 2});
    v.data()[0] = 10.0f;  // a view shares storage
    CHECK(t.data()[0] == 10.0f);
    CHECK_THROWS_AS(t.view({4, 2}), std::invalid_argument);
    CHECK_THROWS_WITH(Tensor::from_vector({2, 2}, {1, 2, 3}), doctest::Contains("from_vector"));
    CHECK(Tensor::zeros({0}).numel() == 0);
    CHECK(shape_str({2, 3}) == "[2, 3]");
}

TEST_CASE("backward walks the tape and accumulates where a tensor feeds two ops") {
    Tensor x = Tensor::from_vector({2}, {1.0f, -2.0f}, true);
    Tensor y = triple(x);
    Tensor z = triple(triple(x));  // x feeds a second chain: dz/dx = 9
    // seed both outputs with ones through one combined backward each
    y.backward(Tensor::full({2}, 1.0f));
    CHECK(x.grad()[0] == doctest::Approx(3.0f));
    z.backward(Tensor::full({2}, 1.0f));
    CHECK(x.grad()[0] == doctest::Approx(12.0f));  // 3 + 9: gradients accumulate
    x.zero_grad();
    CHECK(x.grad()[1] == 0.0f);
}

TEST_CASE("no_grad records nothing") {
    Tensor x = Tensor::from_vector({1}, {2.0f}, true);
    {
        NoGradGuard guard;
        Tensor y = triple(x);
        CHECK_FALSE(y.requires_grad());
        CHECK(y.grad_fn() == nullptr);
    }
    CHECK(triple(x).requires_grad());
}

TEST_CASE("backward needs a scalar or a matching seed") {
    Tensor x = Tensor::from_vector({2}, {1.0f, 2.0f}, true);
    Tensor y = triple(x);
    CHECK_THROWS_WITH(y.backward(), doctest::Contains("one-element"));
    CHECK_THROWS_WITH(y.backward(Tensor::zeros({3})), doctest::Contains("grad_output shape"));
}

// Out of memory is an exception naming the size, never an abort: the storage cache's release path
// (run in Storage's destructor, also while unwinding) does not allocate.
TEST_CASE("an allocation the system cannot serve throws OutOfMemory; nothing aborts") {
    CHECK_THROWS_WITH_AS(Tensor::empty({int64_t{1} << 40}), doctest::Contains("out of memory allocating a tensor"),
                         std::bad_alloc);
    // A failure in the middle of building several tensors unwinds through the earlier ones' destructors.
    CHECK_THROWS_AS(([] {
                        std::vector<Tensor> held;
                        for (int i = 0; i < 8; ++i) held.push_back(Tensor::zeros({1024}));
                        held.push_back(Tensor::empty({int64_t{1} << 42}));
                    }()),
                    std::bad_alloc);
    CHECK(Tensor::zeros({4}).to_vector() == std::vector<float>(4, 0.0f));  // the cache still works
}
