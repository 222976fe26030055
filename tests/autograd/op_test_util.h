// Helpers shared by the op tests: random inputs and a gradcheck wrapper that reports the worst error.
#pragma once

#include <doctest/doctest.h>

#include <functional>
#include <string>
#include <vector>

#include "autograd/gradcheck.h"
#include "autograd/tensor.h"
#include "common/random.h"

namespace gpt::test {

// Uniform values in [lo, hi), from a fixed seed so every run checks the same points.
inline Tensor random_tensor(const Shape& shape, Generator& generator, float lo = -1.0f, float hi = 1.0f,
                            bool requires_grad = true) {
    Tensor t = Tensor::empty(shape, requires_grad);
    for (int64_t i = 0; i < t.numel(); ++i) t.data()[i] = lo + (hi - lo) * generator.uniform();
    return t;
}

// Runs gradcheck (tolerance 1e-2 relative: see gradcheck.h for why float32 forwards need it), reports
// the worst relative error and fails the test when it is over the tolerance.
inline void expect_gradients(const std::string& name, const std::function<Tensor(const std::vector<Tensor>&)>& f,
                             std::vector<Tensor> inputs, GradcheckOptions options = {}) {
    const GradcheckResult result = gradcheck(f, std::move(inputs), options);
    MESSAGE(name << ": worst relative error " << result.max_rel_error << " (" << result.worst << ")");
    CHECK_MESSAGE(result.ok, name << " gradcheck failed: " << result.worst);
}

inline void check_values(const Tensor& t, const std::vector<float>& expected, float tolerance = 1e-5f) {
    REQUIRE(t.numel() == static_cast<int64_t>(expected.size()));
    for (size_t i = 0; i < expected.size(); ++i)
        CHECK_MESSAGE(t.data()[i] == doctest::Approx(expected[i]).epsilon(tolerance), "element " << i);
}

}  // namespace gpt::test
