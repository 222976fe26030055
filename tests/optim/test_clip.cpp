// Gradient clipping by global norm and the non-finite gradient check.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <omp.h>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "optim/adamw.h"
#include "optim/clip.h"

using namespace gpt;

namespace {

double norm_by_hand(const NamedTensors& params) {
    double s = 0.0;
    for (const auto& [name, t] : params)
        if (t.grad())
            for (int64_t i = 0; i < t.numel(); ++i) s += double(t.grad()[i]) * t.grad()[i];
    return std::sqrt(s);
}

NamedTensors random_grads(int64_t big, float scale) {
    std::mt19937 rng(11);
    std::normal_distribution<float> normal;
    NamedTensors params = {{"a", Tensor::zeros({3, 4}, true)}, {"b", Tensor::zeros({5}, true)},
                           {"big", Tensor::zeros({big}, true)}, {"none", Tensor::zeros({2}, true)}};
    for (auto& [name, t] : params) {
        if (name == "none") continue;  // no gradient buffer: left out of the norm
        float* g = t.grad_buffer();
        for (int64_t i = 0; i < t.numel(); ++i) g[i] = scale * normal(rng);
    }
    return params;
}

}  // namespace

TEST_CASE("clip_grad_norm returns the pre-clip norm and scales to max_norm") {
    NamedTensors params = random_grads(100000, 0.1f);
    const double before = norm_by_hand(params);
    REQUIRE(before > 1.0);
    const double returned = clip_grad_norm(params, 1.0);
    CHECK(returned == doctest::Approx(before).epsilon(1e-12));
    CHECK(norm_by_hand(params) == doctest::Approx(1.0).epsilon(1e-5));
    CHECK(params[3].second.grad() == nullptr);
}

TEST_CASE("a norm under max_norm, and max_norm 0, leave the gradients untouched") {
    NamedTensors params = {{"w", Tensor::zeros({2}, true)}};
    params[0].second.grad_buffer()[0] = 3.0f;
    params[0].second.grad_buffer()[1] = 4.0f;
    CHECK(clip_grad_norm(params, 10.0) == doctest::Approx(5.0));
    CHECK(params[0].second.grad()[1] == 4.0f);
    CHECK(clip_grad_norm(params, 0.0) == doctest::Approx(5.0));  // 0: measure only
    CHECK(params[0].second.grad()[0] == 3.0f);
    CHECK(clip_grad_norm(params, 2.5) == doctest::Approx(5.0));
    CHECK(params[0].second.grad()[0] == doctest::Approx(3.0 * 2.5 / (5.0 + 1e-6)));
    CHECK_THROWS_WITH(clip_grad_norm(params, -1.0), doctest::Contains("clip_grad_norm: max_norm must be >= 0"));
    CHECK_THROWS_AS(clip_grad_norm(params, std::nan("")), std::invalid_argument);
}

TEST_CASE("the norm has the same bits for any thread count") {
    NamedTensors params = random_grads(200000, 1.0f);
    const int threads = omp_get_max_threads();
    omp_set_num_threads(1);
    const double one = grad_norm(params);
    omp_set_num_threads(2);
    const double two = grad_norm(params);
    omp_set_num_threads(threads);
    CHECK(one == two);
}

TEST_CASE("gradient_sums_of_squares: each parameter's gradient_sum_of_squares, same bits, any thread count") {
    // Sizes around the 8192-float block and the 4-block parallel threshold; "none" has no gradient.
    NamedTensors params = random_grads(100003, 1.0f);
    for (int64_t n : {int64_t(8192), int64_t(8193), int64_t(3 * 8192 + 1), int64_t(1)}) {
        std::string name = "n";  // appended, not +: GCC 12 -Wrestrict false positive
        params.emplace_back(name.append(std::to_string(n)), Tensor::zeros({n}, true));
        float* g = params.back().second.grad_buffer();
        for (int64_t i = 0; i < n; ++i) g[i] = 0.001f * static_cast<float>((i * 7919) % 2001) - 1.0f;
    }
    const int threads = omp_get_max_threads();
    for (int t : {1, 2, 3}) {
        omp_set_num_threads(t);
        const std::vector<double> squares = gradient_sums_of_squares(params);
        REQUIRE(squares.size() == params.size());
        double total = 0.0;
        for (size_t k = 0; k < params.size(); ++k) {
            const Tensor& tensor = params[k].second;
            const double alone = tensor.grad() ? gradient_sum_of_squares(tensor.grad(), tensor.numel()) : 0.0;
            CHECK(squares[k] == alone);
            CHECK(squares[k] == doctest::Approx(norm_by_hand({params[k]}) * norm_by_hand({params[k]})));
            total += squares[k];
        }
        CHECK(std::sqrt(total) == grad_norm(params));
        CHECK(squares[3] == 0.0);  // "none"
    }
    omp_set_num_threads(threads);
}

TEST_CASE("non-finite gradients are found by parameter name and are not clipped") {
    NamedTensors params = random_grads(50000, 1.0f);
    CHECK(first_nonfinite_gradient(params).empty());
    CHECK(all_gradients_finite(params));
    params[2].second.grad()[40000] = std::numeric_limits<float>::infinity();
    CHECK(first_nonfinite_gradient(params) == "big");
    params[1].second.grad()[4] = std::nanf("");
    CHECK(first_nonfinite_gradient(params) == "b");  // the first in list order
    CHECK_FALSE(all_gradients_finite(params));
    const float kept = params[0].second.grad()[0];
    CHECK(std::isnan(clip_grad_norm(params, 1.0)));
    CHECK(params[0].second.grad()[0] == kept);
}

TEST_CASE("AdamW::step(clip_scale(norm)) gives the bits of clip_grad_norm then step(), without touching the gradients") {
    for (float grad_size : {0.001f, 3.0f}) {  // below and above max_norm 1: no clip, then a clip
        NamedTensors plain = random_grads(40000, grad_size), folded = random_grads(40000, grad_size);
        for (auto* params : {&plain, &folded})
            for (auto& [name, t] : *params)
                for (int64_t i = 0; i < t.numel(); ++i) t.data()[i] = 0.01f * static_cast<float>(i % 17) - 0.08f;
        AdamW plain_opt(plain), folded_opt(folded);
        const double norm = clip_grad_norm(plain, 1.0);
        plain_opt.step();
        const float scale = clip_scale(grad_norm(folded), 1.0);
        CHECK(grad_norm(folded) == norm);
        CHECK((scale < 1.0f) == (grad_size > 1.0f));
        folded_opt.step(scale);
        for (size_t k = 0; k < plain.size(); ++k) {
            const Tensor &a = plain[k].second, &b = folded[k].second;
            for (int64_t i = 0; i < a.numel(); ++i) REQUIRE(a.data()[i] == b.data()[i]);
            const std::vector<float>& m1 = plain_opt.first_moment(plain[k].first);
            const std::vector<float>& m2 = folded_opt.first_moment(plain[k].first);
            CHECK(m1 == m2);
            CHECK(plain_opt.second_moment(plain[k].first) == folded_opt.second_moment(plain[k].first));
        }
    }
    CHECK(clip_scale(std::nan(""), 1.0) == 1.0f);
    CHECK(clip_scale(5.0, 0.0) == 1.0f);
    CHECK(clip_scale(0.5, 1.0) == 1.0f);
    CHECK(clip_scale(4.0, 1.0) == static_cast<float>(1.0 / (4.0 + 1e-6)));
}
