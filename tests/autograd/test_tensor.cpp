#include <doctest/doctest.h>

#include <cmath>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "autograd/ops.h"
#include "autograd/tensor.h"
#include "op_test_util.h"

using namespace gpt;

// A hand-written op (y = 3·x) recorded through the public record() API, so the tape itself is tested
// independently of the op library.
static Tensor triple(const Tensor& x) {
    Tensor out = Tensor::empty(x.shape());
    for (int64_t i = 0; i < x.numel(); ++i) out.data()[i] = 3.0f * x.data()[i];
    if (needs_grad({&x}))
        record(out, "triple", {x}, [n = x.numel()](const Grads& g) {  // reads no values: saves none
            float* gx = g.input(0);
            for (int64_t i = 0; i < n; ++i) gx[i] += 3.0f * g.out[i];
        });
    return out;
}

// A hand-written op with two outputs (first = 2·x, second = 5·x) recorded through record_pair: one closure
// gets both gradients, dx += 2·d(first) + 5·d(second). `seen_second` counts the closures that saw a
// gradient of second (Grads::second not null), `missing_first` those that saw none of first (Grads::out null).
static int seen_second = 0, missing_first = 0;
static std::pair<Tensor, Tensor> two_outputs(const Tensor& x) {
    Tensor first = Tensor::empty(x.shape()), second = Tensor::empty(x.shape());
    for (int64_t i = 0; i < x.numel(); ++i) {
        first.data()[i] = 2.0f * x.data()[i];
        second.data()[i] = 5.0f * x.data()[i];
    }
    if (needs_grad({&x}))
        record_pair(first, second, "two_outputs", {x}, [n = x.numel()](const Grads& g) {
            float* gx = g.input(0);
            if (g.second) ++seen_second;
            if (!g.out) ++missing_first;
            for (int64_t i = 0; i < n; ++i)
                gx[i] += (g.out ? 2.0f * g.out[i] : 0.0f) + (g.second ? 5.0f * g.second[i] : 0.0f);
        });
    return {first, second};
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

TEST_CASE("zero_grads zeroes every existing gradient, small and large, and creates none") {
    // 300,000 floats in all: over zero_grads' parallel threshold (4 chunks of 65,536), one tensor alone too.
    std::vector<Tensor> tensors = {Tensor::zeros({3}, true), Tensor::zeros({70000}, true), Tensor::zeros({5}, true),
                                   Tensor::zeros({300000}, true)};
    for (size_t k : {size_t(0), size_t(1), size_t(3)}) {
        float* g = tensors[k].grad_buffer();
        for (int64_t i = 0; i < tensors[k].numel(); ++i) g[i] = 1.0f + static_cast<float>(i % 7);
    }
    const float* kept = tensors[1].grad();
    zero_grads(tensors);
    CHECK(tensors[2].grad() == nullptr);  // had none: still none
    CHECK(tensors[1].grad() == kept);     // the buffers stay
    for (size_t k : {size_t(0), size_t(1), size_t(3)}) {
        int64_t nonzero = 0;
        for (int64_t i = 0; i < tensors[k].numel(); ++i) nonzero += tensors[k].grad()[i] != 0.0f;
        CHECK(nonzero == 0);
    }
    zero_grads({});  // nothing to do
}

TEST_CASE("an intermediate's gradient is freed after backward unless retain_grad asks to keep it") {
    Tensor x = Tensor::from_vector({2}, {1.0f, -2.0f}, true);
    Tensor kept = triple(x), dropped = triple(x);
    kept.impl()->autograd_meta().retain_grad = true;
    Tensor y = triple(kept) + triple(dropped);  // dy/d(kept) = 3
    y.backward(Tensor::full({2}, 1.0f));
    REQUIRE(kept.grad() != nullptr);
    CHECK(kept.grad()[0] == doctest::Approx(3.0f));
    CHECK(dropped.grad() == nullptr);               // freed once propagated: the default
    CHECK(x.grad()[1] == doctest::Approx(18.0f));  // leaves keep theirs: 9 + 9
}

TEST_CASE("an op with two outputs (record_pair) sees both gradients complete in one closure") {
    const Tensor ones = Tensor::full({2}, 1.0f);
    SUBCASE("each output read by several ops, one of them late in backward") {
        // second feeds a long chain (its gradient arrives late) and first directly; first also feeds
        // the chain's end, so first's gradient is complete before second's: the closure must wait for both.
        Tensor x = Tensor::from_vector({2}, {1.0f, -2.0f}, true);
        auto [first, second] = two_outputs(x);
        Tensor y = triple(triple(second) + first) + first;  // d/dfirst = 3 + 1, d/dsecond = 9
        seen_second = 0;
        y.backward(ones);
        CHECK(seen_second == 1);
        CHECK(x.grad()[0] == 2.0f * 4.0f + 5.0f * 9.0f);
        CHECK(first.grad() == nullptr);  // both intermediates' gradients freed once read
        CHECK(second.grad() == nullptr);
    }
    SUBCASE("only the first output read: the second's term is absent") {
        Tensor x = Tensor::from_vector({2}, {1.0f, -2.0f}, true);
        auto [first, second] = two_outputs(x);
        seen_second = 0;
        triple(first).backward(ones);
        CHECK(seen_second == 0);
        CHECK(x.grad()[1] == 6.0f);
    }
    SUBCASE("only the second output read, or backward started from it") {
        Tensor x = Tensor::from_vector({2}, {1.0f, -2.0f}, true);
        auto [first, second] = two_outputs(x);
        missing_first = 0;
        triple(second).backward(ones);
        CHECK(missing_first == 1);  // the closure ran without a gradient of first (no zeros made for it)
        CHECK(x.grad()[0] == 15.0f);
        Tensor z = Tensor::from_vector({2}, {1.0f, -2.0f}, true);
        auto [zf, zs] = two_outputs(z);
        zs.backward(ones);
        CHECK(z.grad()[0] == 5.0f);
        REQUIRE(zs.grad() != nullptr);  // the root keeps its gradient
        CHECK(zs.grad()[0] == 1.0f);
    }
    SUBCASE("retain_grad keeps the second output's gradient; a second backward is refused") {
        Tensor x = Tensor::from_vector({2}, {1.0f, -2.0f}, true);
        auto [first, second] = two_outputs(x);
        second.impl()->autograd_meta().retain_grad = true;
        Tensor y = triple(second) + first;
        y.backward(ones);
        REQUIRE(second.grad() != nullptr);
        CHECK(second.grad()[1] == 3.0f);
        CHECK(x.grad()[0] == 2.0f + 15.0f);
        CHECK_THROWS_WITH(y.backward(ones), doctest::Contains("second time"));
    }
}

TEST_CASE("a leaf's on_gradient_ready hook runs once, after the last contribution to its gradient") {
    // w feeds two chains that run at different times in backward: early (triple(w) near the loss) and
    // late (w at the start of a long chain); b feeds one op twice (b + b). The hook must see the whole
    // gradient, exactly once, and may free it (as the optimizer in backward does).
    Tensor w = Tensor::from_vector({2}, {1.0f, 2.0f}, true);
    Tensor b = Tensor::from_vector({2}, {0.5f, 0.5f}, true);
    Tensor unused = Tensor::from_vector({2}, {0.0f, 0.0f}, true);
    std::vector<std::string> calls;
    std::vector<float> seen_w;
    w.impl()->autograd_meta().on_gradient_ready = [&] {
        calls.push_back("w");
        seen_w.assign(w.grad(), w.grad() + 2);
        w.release_grad();
    };
    b.impl()->autograd_meta().on_gradient_ready = [&] { calls.push_back("b"); };
    unused.impl()->autograd_meta().on_gradient_ready = [&] { calls.push_back("unused"); };
    Tensor late = triple(triple(triple(w)) + (b + b));  // d/dw 27, d/db 6
    Tensor y = late + triple(w);                        // d/dw 3 more
    y.backward(Tensor::full({2}, 1.0f));
    CHECK(calls == std::vector<std::string>{"b", "w"});  // unused is in no node: never called
    REQUIRE(seen_w.size() == 2);
    CHECK(seen_w[0] == 30.0f);
    CHECK(w.grad() == nullptr);  // the hook freed it
    CHECK(b.grad()[0] == 6.0f);
}

TEST_CASE("the first op to reach an input writes its gradient into a fresh buffer (=); later ones add") {
    // Each op alone, so that it is the first (and only) to reach x: Grads::target gives a new buffer,
    // not zeroed. The storage cache is first filled with NaN buffers of x's size, so a fresh buffer holds
    // NaN and an element the op failed to write would show. Then the same op with x's gradient already
    // present and zero (the += path) must give the same values, and all ops together their sum.
    const int64_t R = 24, C = 40;
    Generator gen(11);
    const Tensor x0 = test::random_tensor({R, C}, gen);
    const Tensor w = test::random_tensor({C, C}, gen), b = test::random_tensor({C}, gen);
    const Tensor ln_w = test::random_tensor({C}, gen), ln_b = test::random_tensor({C}, gen), other = test::random_tensor({R, C}, gen);
    using Op = Tensor (*)(const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&);
    const std::vector<std::pair<const char*, Op>> ops = {
        {"linear", [](const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor&, const Tensor&,
                      const Tensor&) { return linear(x, weight, bias);
         }},
        {"gelu", [](const Tensor& x, const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&) {
             return gelu(x);
         }},
        {"layer_norm", [](const Tensor& x, const Tensor&, const Tensor&, const Tensor& lw, const Tensor& lb,
                          const Tensor&) { return layer_norm(x, lw, lb); }},
        {"dropout", [](const Tensor& x, const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&) {
             Generator g(5);
             return dropout(x, 0.3f, true, g);
         }},
        {"add", [](const Tensor& x, const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor& y) {
             return x + y;
         }},
        {"add_layer_norm", [](const Tensor& x, const Tensor&, const Tensor&, const Tensor& lw, const Tensor& lb,
                              const Tensor& y) {
             const AddNorm r = add_layer_norm(y, x, lw, lb);  // x second: its gradient is the closure's second target
             return r.normed + r.sum;
         }},
        {"add_layer_norm, x twice", [](const Tensor& x, const Tensor&, const Tensor&, const Tensor& lw,
                                       const Tensor& lb, const Tensor&) {
             const AddNorm r = add_layer_norm(x, x, lw, lb);  // both targets are one buffer
             return r.normed * 0.5f + r.sum;
         }},
        {"exp", [](const Tensor& x, const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&) {
             return exp(x);
         }},
    };
    const Tensor seed = test::random_tensor({R, C}, gen);
    auto gradient = [&](const std::vector<Op>& chosen, bool zero_grad_first) {
        for (int i = 0; i < 8; ++i) Tensor::full({R, C}, NAN);  // back to the storage cache, NaN inside
        Tensor x = x0.clone();
        x.set_requires_grad(true);
        if (zero_grad_first) x.grad_buffer();  // a zeroed gradient exists: ops add into it
        Tensor total;
        for (Op op : chosen) {
            Tensor y = op(x, w, b, ln_w, ln_b, other);
            total = total.defined() ? total + y : y;
        }
        total.backward(seed);
        return std::vector<float>(x.grad(), x.grad() + R * C);
    };
    std::vector<float> sum(static_cast<size_t>(R * C), 0.0f);
    std::vector<Op> all;
    for (const auto& [name, op] : ops) {
        const std::string op_name = name;
        CAPTURE(op_name);
        const std::vector<float> fresh = gradient({op}, false), added = gradient({op}, true);
        bool equal = true;
        for (size_t i = 0; i < fresh.size(); ++i) equal = equal && fresh[i] == added[i];  // NaN fails
        CHECK(equal);
        for (size_t i = 0; i < sum.size(); ++i) sum[i] += fresh[i];
        all.push_back(op);
    }
    const std::vector<float> together = gradient(all, false);
    for (size_t i = 0; i < sum.size(); ++i) CHECK(together[i] == doctest::Approx(sum[i]).epsilon(1e-5));
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

TEST_CASE("a second backward through the same graph is refused, naming the op, and changes nothing") {
    Tensor w = Tensor::from_vector({2}, {1.0f, 2.0f}, true);
    Tensor x = Tensor::from_vector({2}, {3.0f, 4.0f});
    Tensor y = sum_all(mul(w, x));
    y.backward();
    CHECK(w.grad_tensor().to_vector() == std::vector<float>{3.0f, 4.0f});
    std::string message;
    try {
        y.backward();
    } catch (const std::invalid_argument& e) {
        message = e.what();
    }
    CHECK(message.find("sum_all: ") == 0);
    CHECK(message.find("backward through the graph a second time") != std::string::npos);
    CHECK(w.grad_tensor().to_vector() == std::vector<float>{3.0f, 4.0f});  // not [9, 12], not [6, 8]
    sum_all(mul(w, x)).backward();  // a new forward builds a new graph: gradients accumulate as usual
    CHECK(w.grad_tensor().to_vector() == std::vector<float>{6.0f, 8.0f});
}

TEST_CASE("a node keeps an input's values only where its backward formula reads them") {
    Tensor w = Tensor::from_vector({2}, {1.0f, 2.0f}, true);
    auto storage_of = [](const Tensor& t) { return std::weak_ptr<Storage>(t.impl()->storage); };
    Tensor a = mul_scalar(w, 2.0f), b = mul_scalar(w, 3.0f), c = mul_scalar(w, 4.0f);
    const auto a_storage = storage_of(a), b_storage = storage_of(b), c_storage = storage_of(c);
    Tensor sum = add(a, b);      // d(a + b) reads neither value
    Tensor product = mul(w, c);  // d(w·c)/dw reads c
    a = b = c = Tensor();
    CHECK(a_storage.expired());
    CHECK(b_storage.expired());
    CHECK_FALSE(c_storage.expired());
    CHECK(sum.grad_fn()->inputs.size() == 2);  // the gradient targets stay: the graph is intact
    Tensor loss = add(sum_all(sum), sum_all(product));
    loss.backward();
    CHECK(w.grad_tensor().to_vector() == std::vector<float>{13.0f, 21.0f});  // 5 + 8·w
    CHECK(c_storage.expired());  // backward dropped the closure and the values it saved
}
