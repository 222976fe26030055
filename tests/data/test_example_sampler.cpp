// ExampleSampler (data/example_sampler.h): B indices in range, the same stream for the same seed, skip_batch
// moving the state exactly as next_batch does, and set_state resuming the stream.
#include <doctest/doctest.h>

#include <stdexcept>

#include "data/example_sampler.h"

using namespace gpt;

TEST_CASE("example sampler: indices in range, reproducible, skip and resume move the same stream") {
    ExampleSampler a(7, 5, 42), b(7, 5, 42);
    bool all_seen[7] = {};
    for (int k = 0; k < 20; ++k) {
        const std::vector<size_t> batch = a.next_batch();
        REQUIRE(batch.size() == 5);
        for (size_t i : batch) {
            REQUIRE(i < 7);
            all_seen[i] = true;
        }
        if (k % 3 == 0) b.skip_batch();
        else CHECK(b.next_batch() == batch);
    }
    for (bool seen : all_seen) CHECK(seen);
    CHECK(a.state().batches_drawn == 20);
    CHECK(b.state().batches_drawn == 20);
    ExampleSampler c(7, 5, 1);
    c.set_state(a.state());
    CHECK(c.next_batch() == a.next_batch());
    CHECK(ExampleSampler(7, 5, 43).next_batch() != ExampleSampler(7, 5, 42).next_batch());
    CHECK_THROWS_AS(ExampleSampler(0, 5, 1), std::invalid_argument);
    CHECK_THROWS_AS(ExampleSampler(3, 0, 1), std::invalid_argument);
    CHECK_THROWS_AS(c.set_state(SamplerState{}), std::invalid_argument);
}
