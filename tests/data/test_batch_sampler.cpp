#include <doctest/doctest.h>

#include <numeric>
#include <stdexcept>

#include "data/batch_sampler.h"

using namespace gpt;

TEST_CASE("sampler: windows are consecutive tokens, targets shifted by one, starts cover the range") {
    std::vector<uint16_t> tokens(50);
    std::iota(tokens.begin(), tokens.end(), uint16_t(0));  // token value == its position
    const int64_t B = 4, T = 8;
    BatchSampler sampler(TokenSpan(tokens), B, T, 42);
    std::vector<int> start_seen(50, 0);
    for (int step = 0; step < 200; ++step) {
        const Batch batch = sampler.next_batch();
        for (int64_t b = 0; b < B; ++b) {
            const int32_t start = batch.inputs[size_t(b * T)];
            REQUIRE(start >= 0);
            REQUIRE(start <= 50 - T - 1);
            start_seen[size_t(start)] = 1;
            for (int64_t t = 0; t < T; ++t) {
                CHECK(batch.inputs[size_t(b * T + t)] == start + t);
                CHECK(batch.targets[size_t(b * T + t)] == start + t + 1);
            }
        }
    }
    CHECK(std::accumulate(start_seen.begin(), start_seen.end(), 0) == 50 - T);  // every start 0..41 drawn
    CHECK(sampler.batches_drawn() == 200);
}

TEST_CASE("sampler: same seed same batches; a restored state continues the same stream") {
    std::vector<int32_t> tokens(1000);
    for (size_t i = 0; i < tokens.size(); ++i) tokens[i] = int32_t((i * 7919) % 1000);
    BatchSampler a(TokenSpan(tokens), 3, 16, 7), b(TokenSpan(tokens), 3, 16, 7), c(TokenSpan(tokens), 3, 16, 8);
    for (int i = 0; i < 5; ++i) {
        const Batch x = a.next_batch(), y = b.next_batch();
        CHECK(x.inputs == y.inputs);
        CHECK(x.targets == y.targets);
    }
    CHECK(a.next_batch().inputs != c.next_batch().inputs);

    // Save after 6 batches, keep drawing; a fresh sampler restored from the state draws the same.
    const SamplerState saved = a.state();
    CHECK(saved.batches_drawn == 6);
    std::vector<Batch> uninterrupted;
    for (int i = 0; i < 4; ++i) uninterrupted.push_back(a.next_batch());
    BatchSampler resumed(TokenSpan(tokens), 3, 16, 999);
    resumed.set_state(saved);
    CHECK(resumed.batches_drawn() == 6);
    for (const Batch& expected : uninterrupted) {
        const Batch got = resumed.next_batch();
        CHECK(got.inputs == expected.inputs);
        CHECK(got.targets == expected.targets);
    }
}

TEST_CASE("sampler: invalid arguments") {
    std::vector<int32_t> tokens(10, 1);
    CHECK_THROWS_WITH(BatchSampler(TokenSpan(tokens), 2, 10, 1), doctest::Contains("T + 1 = 11"));
    CHECK_NOTHROW(BatchSampler(TokenSpan(tokens), 2, 9, 1));
    CHECK_THROWS_AS(BatchSampler(TokenSpan(tokens), 0, 4, 1), std::invalid_argument);
    BatchSampler sampler(TokenSpan(tokens), 2, 4, 1);
    std::vector<int32_t> wrong(7), right(8);
    CHECK_THROWS_WITH(sampler.next_batch(wrong, right), doctest::Contains("B*T = 8"));
    CHECK_THROWS_AS(sampler.set_state(SamplerState{}), std::invalid_argument);
}

TEST_CASE("sampler: skip_batch moves the state exactly as next_batch (data-parallel ranks skip others' batches)") {
    std::vector<int32_t> tokens(1000);
    for (size_t i = 0; i < tokens.size(); ++i) tokens[i] = int32_t((i * 7919) % 1000);
    BatchSampler all(TokenSpan(tokens), 3, 16, 11), rank0(TokenSpan(tokens), 3, 16, 11), rank1(TokenSpan(tokens), 3, 16, 11);
    for (int step = 0; step < 4; ++step) {
        // micro-batch 0 is rank 0's, micro-batch 1 rank 1's: their union is the single stream's two.
        const Batch first = all.next_batch(), second = all.next_batch();
        const Batch mine0 = rank0.next_batch();
        rank0.skip_batch();
        rank1.skip_batch();
        const Batch mine1 = rank1.next_batch();
        CHECK(mine0.inputs == first.inputs);
        CHECK(mine1.inputs == second.inputs);
        CHECK(mine1.targets == second.targets);
    }
    CHECK(rank0.state().rng == all.state().rng);
    CHECK(rank1.state().rng == all.state().rng);
    CHECK(rank1.batches_drawn() == all.batches_drawn());
}
