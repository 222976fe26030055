// linear_gelu (autograd/ops/linear_gelu.cpp): c_fc and its GELU in one op. Checked
// bit for bit against linear then gelu on every kernel path the CPU runs, for 1, 2 and 3 threads, with
// and without bias, on shapes with edge tiles and more than one K block; and by finite differences.
#include <doctest/doctest.h>

#include <omp.h>

#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "autograd/gradcheck.h"
#include "autograd/kernels/kernels.h"
#include "autograd/ops.h"
#include "common/random.h"

using namespace gpt;

namespace {

std::vector<float> normals(size_t n, uint64_t seed, double sd = 1.0) {
    Generator generator(seed);
    std::vector<float> v(n);
    for (float& x : v) x = static_cast<float>(sd * generator.normal());
    return v;
}

bool bitwise_equal(const std::vector<float>& a, const std::vector<float>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

struct Shape3 {
    int64_t R, in, out;
};

// L = Σ gelu(x·Wᵀ + b) ⊙ r, through linear_gelu (fused) or linear then gelu, at `threads` threads. x's
// gradient is first written by this op (assigned) unless `x_used_before`, when it already holds one
// (accumulated). Returns the output and every gradient, concatenated.
std::vector<float> run(bool fused, bool with_bias, bool x_used_before, const Shape3& s, int threads) {
    const int previous = omp_get_max_threads();
    omp_set_num_threads(threads);
    Tensor x = Tensor::from_vector({s.R, s.in}, normals(static_cast<size_t>(s.R * s.in), 1), true);
    Tensor w = Tensor::from_vector({s.out, s.in}, normals(static_cast<size_t>(s.out * s.in), 2, 0.2), true);
    Tensor b = with_bias ? Tensor::from_vector({s.out}, normals(static_cast<size_t>(s.out), 3), true) : Tensor();
    Tensor r = Tensor::from_vector({s.R, s.out}, normals(static_cast<size_t>(s.R * s.out), 4));
    const Tensor y = fused ? linear_gelu(x, w, b) : gelu(linear(x, w, b));
    Tensor loss = y * r;
    if (x_used_before) loss = loss + sum(x * x, 1, true);
    loss.backward(Tensor::full(loss.shape(), 1.0f));
    std::vector<float> all = y.to_vector();
    for (const Tensor* t : {&x, &w, &b}) {
        if (!t->defined()) continue;
        const std::vector<float> g = t->grad_tensor().to_vector();
        all.insert(all.end(), g.begin(), g.end());
    }
    omp_set_num_threads(previous);
    return all;
}

struct PathGuard {
    KernelPath saved = kernel_path();
    ~PathGuard() { set_kernel_path(saved); }
};

}  // namespace

TEST_CASE("linear_gelu gives the bits of linear then gelu on every kernel path, for 1, 2 and 3 threads") {
    PathGuard guard;
    // 130 rows and 100 columns leave edge tiles on every micro-tile shape; in = 300 > KC = 256: two K
    // blocks. The larger shape is above every parallel threshold.
    const std::vector<Shape3> shapes{{130, 300, 100}, {7, 5, 3}, {256, 64, 1536}};
    for (KernelPath p : supported_kernel_paths()) {
        set_kernel_path(p);
        const std::string path = kernel_path_name(p);
        for (const Shape3& s : shapes)
            for (bool with_bias : {true, false})
                for (bool x_used_before : {false, true}) {
                    CAPTURE(path);
                    CAPTURE(s.R);
                    CAPTURE(s.out);
                    CAPTURE(with_bias);
                    CAPTURE(x_used_before);
                    const std::vector<float> unfused = run(false, with_bias, x_used_before, s, 1);
                    const std::vector<float> one = run(true, with_bias, x_used_before, s, 1);
                    CHECK(bitwise_equal(one, unfused));
                    CHECK(bitwise_equal(run(true, with_bias, x_used_before, s, 2), one));
                    CHECK(bitwise_equal(run(true, with_bias, x_used_before, s, 3), one));
                }
    }
}

TEST_CASE("linear_gelu backward: gradcheck of x, weight and bias") {
    Tensor x = Tensor::from_vector({2, 3, 6}, normals(36, 11), true);
    Tensor w = Tensor::from_vector({5, 6}, normals(30, 12, 0.5), true);
    Tensor b = Tensor::from_vector({5}, normals(5, 13), true);
    const GradcheckResult result =
        gradcheck([](const std::vector<Tensor>& in) { return linear_gelu(in[0], in[1], in[2]); }, {x, w, b});
    MESSAGE("linear_gelu gradcheck worst relative error " << result.max_rel_error << " (" << result.worst << ")");
    CHECK(result.ok);
    const GradcheckResult no_bias =
        gradcheck([](const std::vector<Tensor>& in) { return linear_gelu(in[0], in[1], Tensor()); }, {x, w});
    CHECK(no_bias.ok);
}

TEST_CASE("linear_gelu: only the inputs that require grad get one; shapes; errors name the op") {
    Tensor x = Tensor::from_vector({4, 3}, normals(12, 21));
    Tensor w = Tensor::from_vector({2, 3}, normals(6, 22), true);
    Tensor y = linear_gelu(x, w, Tensor());
    CHECK(y.shape() == Shape{4, 2});
    y.backward(Tensor::full({4, 2}, 1.0f));
    CHECK(x.grad() == nullptr);
    CHECK(w.grad() != nullptr);
    CHECK(linear_gelu(Tensor::zeros({2, 5, 3}), w, Tensor()).shape() == Shape{2, 5, 2});
    CHECK_THROWS_WITH_AS(linear_gelu(Tensor::zeros({4, 4}), w, Tensor()), doctest::Contains("linear_gelu"),
                         std::invalid_argument);
    CHECK_THROWS_AS(linear_gelu(x, w, Tensor::zeros({3})), std::invalid_argument);
}
