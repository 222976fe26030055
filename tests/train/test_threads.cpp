// configure_threads also flushes denormals to zero in every thread of the pool (common/threads.h):
// a training run's speed must not fall as its attention probabilities underflow.
#include <doctest/doctest.h>
#include <omp.h>

#include <cstddef>
#include <vector>

#include "common/threads.h"

namespace {

// x·y computed at run time (volatile operands: the compiler cannot fold the product).
float product(float x, float y) {
    volatile float a = x, b = y;
    return a * b;
}

}  // namespace

TEST_CASE("configure_threads: every thread of the pool flushes denormal results and operands to zero") {
#if defined(__SSE__)
    const int threads = gpt::configure_threads(2);
    std::vector<float> result(static_cast<std::size_t>(threads), -1.0f), operand(static_cast<std::size_t>(threads), -1.0f);
#pragma omp parallel num_threads(threads)
    {
        const auto t = static_cast<std::size_t>(omp_get_thread_num());
        result[t] = product(1e-30f, 1e-10f);   // 1e-40: denormal → 0 with FTZ
        volatile float tiny = 1e-39f;           // a denormal operand → read as 0 with DAZ
        operand[t] = product(tiny, 1e30f);      // 1e-9 without DAZ
    }
    for (int t = 0; t < threads; ++t) {
        CAPTURE(t);
        CHECK(result[static_cast<std::size_t>(t)] == 0.0f);
        CHECK(operand[static_cast<std::size_t>(t)] == 0.0f);
    }
    CHECK(product(1e-20f, 1e-10f) == doctest::Approx(1e-30f));  // normal numbers are untouched
#else
    MESSAGE("no SSE: flush_denormals is a no-op here, nothing to check");
#endif
}
