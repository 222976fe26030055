// Sampling on hand-made distributions: every mask, temperature and penalty checked against values worked
// out by hand, and the draw checked against its own frequencies.
#include <doctest/doctest.h>

#include <cmath>
#include <numeric>
#include <vector>

#include "generate/sampling.h"

using namespace gpt;

namespace {

std::vector<float> logits_of(const std::vector<float>& probs) {
    std::vector<float> logits;
    for (const float p : probs) logits.push_back(std::log(p));
    return logits;
}

void check_probs(const std::vector<float>& actual, const std::vector<float>& expected) {
    REQUIRE(actual.size() == expected.size());
    for (size_t i = 0; i < actual.size(); ++i) {
        CAPTURE(i);
        CHECK(actual[i] == doctest::Approx(expected[i]).epsilon(1e-6));
    }
}

}  // namespace

TEST_CASE("top-k keeps the k most probable tokens and renormalises") {
    std::vector<float> probs = {0.1f, 0.4f, 0.2f, 0.3f};
    keep_top_k(probs, 2);
    check_probs(probs, {0.0f, 0.4f / 0.7f, 0.0f, 0.3f / 0.7f});

    std::vector<float> unchanged = {0.1f, 0.4f, 0.2f, 0.3f};
    keep_top_k(unchanged, 0);
    check_probs(unchanged, {0.1f, 0.4f, 0.2f, 0.3f});
    keep_top_k(unchanged, 4);
    check_probs(unchanged, {0.1f, 0.4f, 0.2f, 0.3f});

    std::vector<float> tied = {0.25f, 0.25f, 0.25f, 0.25f};  // ties: lower id kept
    keep_top_k(tied, 3);
    check_probs(tied, {1.0f / 3, 1.0f / 3, 1.0f / 3, 0.0f});
}

TEST_CASE("top-p keeps the smallest most-probable set whose mass reaches p") {
    // sorted: 0.5 (id 2), 0.3 (id 0), 0.15 (id 3), 0.05 (id 1)
    auto run = [](float p) {
        std::vector<float> probs = {0.3f, 0.05f, 0.5f, 0.15f};
        keep_top_p(probs, p);
        return probs;
    };
    check_probs(run(0.5f), {0.0f, 0.0f, 1.0f, 0.0f});         // 0.5 reaches 0.5 already
    check_probs(run(0.6f), {0.3f / 0.8f, 0.0f, 0.5f / 0.8f, 0.0f});
    check_probs(run(0.8f), {0.3f / 0.8f, 0.0f, 0.5f / 0.8f, 0.0f});
    check_probs(run(0.81f), {0.3f / 0.95f, 0.0f, 0.5f / 0.95f, 0.15f / 0.95f});
    check_probs(run(0.1f), {0.0f, 0.0f, 1.0f, 0.0f});         // the top token is always kept
    check_probs(run(1.0f), {0.3f, 0.05f, 0.5f, 0.15f});
}

TEST_CASE("top-k applies before top-p, on the renormalised distribution") {
    SamplingOptions options;
    options.temperature = 1.0f;
    options.top_k = 3;    // drops 0.1 → {0.4, 0.3, 0.2}/0.9 = {0.444, 0.333, 0.222}
    options.top_p = 0.7f; // 0.444 < 0.7, 0.444 + 0.333 ≥ 0.7 → two kept
    const std::vector<float> probs = sampling_distribution(logits_of({0.1f, 0.4f, 0.2f, 0.3f}), {}, options);
    check_probs(probs, {0.0f, 0.4f / 0.7f, 0.0f, 0.3f / 0.7f});
    // Where the order matters: p = 0.42 on the original {0.4, 0.3, ...} would keep two tokens, but after
    // top-k the favourite alone has 0.444 ≥ 0.42.
    options.top_p = 0.42f;
    check_probs(sampling_distribution(logits_of({0.1f, 0.4f, 0.2f, 0.3f}), {}, options), {0.0f, 1.0f, 0.0f, 0.0f});
}

TEST_CASE("temperature scales the logits before the softmax; 0 is greedy") {
    const std::vector<float> logits = {1.0f, 2.0f, 0.0f};
    const std::vector<float> t1 = softmax_with_temperature(logits, 1.0f);
    const double z1 = std::exp(1.0) + std::exp(2.0) + 1.0;
    check_probs(t1, {float(std::exp(1.0) / z1), float(std::exp(2.0) / z1), float(1.0 / z1)});
    const std::vector<float> t2 = softmax_with_temperature(logits, 2.0f);
    const double z2 = std::exp(0.5) + std::exp(1.0) + 1.0;
    check_probs(t2, {float(std::exp(0.5) / z2), float(std::exp(1.0) / z2), float(1.0 / z2)});
    CHECK(t2[1] < t1[1]);  // higher temperature flattens
    check_probs(softmax_with_temperature(logits, 0.0f), {0.0f, 1.0f, 0.0f});
    check_probs(softmax_with_temperature(std::vector<float>{1e4f, -1e4f}, 1.0f), {1.0f, 0.0f});  // no overflow
}

TEST_CASE("repetition penalty divides positive and multiplies negative logits, once per token") {
    std::vector<float> logits = {2.0f, -1.0f, 3.0f, 0.5f};
    apply_repetition_penalty(logits, std::vector<int32_t>{0, 1, 0, 0}, 2.0f);
    check_probs(logits, {1.0f, -2.0f, 3.0f, 0.5f});
    std::vector<float> same = {2.0f, -1.0f};
    apply_repetition_penalty(same, std::vector<int32_t>{0, 1}, 1.0f);
    check_probs(same, {2.0f, -1.0f});
    CHECK_THROWS_WITH(apply_repetition_penalty(same, std::vector<int32_t>{5}, 1.5f), doctest::Contains("token id 5"));

    // Greedy with a penalty: the repeated favourite loses to the runner-up.
    SamplingOptions options;
    options.temperature = 0.0f;
    options.repetition_penalty = 2.0f;
    Generator generator(1);
    CHECK(sample_token(std::vector<float>{3.0f, 2.0f}, std::vector<int32_t>{0}, options, generator) == 1);
    options.repetition_penalty = 1.0f;
    CHECK(sample_token(std::vector<float>{3.0f, 2.0f}, std::vector<int32_t>{0}, options, generator) == 0);
}

TEST_CASE("greedy is deterministic and draws nothing from the generator") {
    SamplingOptions options;
    options.temperature = 0.0f;
    const std::vector<float> logits = {0.1f, 0.7f, 0.7f, -2.0f};
    Generator a(5), b(5);
    for (int i = 0; i < 10; ++i) CHECK(sample_token(logits, {}, options, a) == 1);  // first maximum
    CHECK(a.next_u64() == b.next_u64());
}

TEST_CASE("same seed gives the same draws; draws follow the distribution") {
    SamplingOptions options;
    options.temperature = 1.0f;
    const std::vector<float> logits = logits_of({0.1f, 0.2f, 0.3f, 0.4f});
    auto run = [&](uint64_t seed) {
        Generator generator(seed);
        std::vector<int32_t> ids;
        for (int i = 0; i < 200; ++i) ids.push_back(sample_token(logits, {}, options, generator));
        return ids;
    };
    CHECK(run(1337) == run(1337));
    CHECK(run(1337) != run(1338));

    Generator generator(99);
    std::vector<int> counts(4, 0);
    const int n = 40000;
    for (int i = 0; i < n; ++i) ++counts[static_cast<size_t>(draw(std::vector<float>{0.1f, 0.2f, 0.3f, 0.4f}, generator))];
    for (size_t i = 0; i < 4; ++i) CHECK(counts[i] / double(n) == doctest::Approx(0.1 * double(i + 1)).epsilon(0.05));
    for (int i = 0; i < 1000; ++i) CHECK(draw(std::vector<float>{0.0f, 1.0f, 0.0f}, generator) == 1);
}

TEST_CASE("top candidates come most probable first, after processing, and sum to at most 1") {
    SamplingOptions options;
    options.temperature = 1.0f;
    options.top_k = 3;
    const std::vector<float> probs = sampling_distribution(logits_of({0.05f, 0.4f, 0.15f, 0.1f, 0.3f}), {}, options);
    const std::vector<Candidate> top = top_candidates(probs, 5);
    REQUIRE(top.size() == 3);  // zero-probability tokens are not candidates
    CHECK(top[0].id == 1);
    CHECK(top[1].id == 4);
    CHECK(top[2].id == 2);
    CHECK(top[0].probability == doctest::Approx(0.4 / 0.85));
    float total = 0.0f;
    for (const Candidate& c : top) total += c.probability;
    CHECK(total == doctest::Approx(1.0));
    CHECK(top_candidates(probs, 2).size() == 2);
}

TEST_CASE("sampling options are validated with the option's name") {
    SamplingOptions options;
    options.temperature = -1.0f;
    CHECK_THROWS_WITH(options.validate(), doctest::Contains("--temperature"));
    options = {};
    options.top_p = 0.0f;
    CHECK_THROWS_WITH(options.validate(), doctest::Contains("--top_p must be in (0, 1]"));
    options.top_p = 1.5f;
    CHECK_THROWS_WITH(options.validate(), doctest::Contains("--top_p"));
    options = {};
    options.top_k = -1;
    CHECK_THROWS_WITH(options.validate(), doctest::Contains("--top_k"));
    options = {};
    options.repetition_penalty = 0.0f;
    CHECK_THROWS_WITH(options.validate(), doctest::Contains("--repetition_penalty"));
    CHECK_NOTHROW(SamplingOptions{}.validate());
}

TEST_CASE("every sampling parameter has a range; nothing is drawn from a non-finite distribution") {
    SamplingOptions options;
    options.repetition_penalty = 1e-45f;  // issue 27: accepted, and NaN probabilities followed
    CHECK_THROWS_WITH(options.validate(), doctest::Contains("--repetition_penalty must be in [0.01, 100]"));
    options.repetition_penalty = 1e30f;
    CHECK_THROWS_WITH(options.validate(), doctest::Contains("--repetition_penalty"));
    options = {};
    options.temperature = 1e-30f;
    CHECK_THROWS_WITH(options.validate(), doctest::Contains("--temperature must be 0 (greedy) or in [0.001, 1000]"));
    options.temperature = 1e9f;
    CHECK_THROWS_WITH(options.validate(), doctest::Contains("--temperature"));
    options.temperature = 0.0f;
    CHECK_NOTHROW(options.validate());
    options.temperature = std::nanf("");
    CHECK_THROWS_WITH(options.validate(), doctest::Contains("--temperature"));
    options = {};
    options.top_p = std::nanf("");
    CHECK_THROWS_WITH(options.validate(), doctest::Contains("--top_p"));
    // The extreme ends of the ranges keep large finite logits finite.
    options = {};
    options.temperature = kMinTemperature;
    options.repetition_penalty = kMinRepetitionPenalty;
    const std::vector<float> large = {3e30f, -3e30f, 1.0f};
    const std::vector<float> probs = sampling_distribution(large, std::vector<int32_t>{0, 1}, options);
    CHECK(probs[0] + probs[1] + probs[2] == doctest::Approx(1.0));
    // A NaN logit (a broken model): a clear error, not a draw.
    const std::vector<float> broken = {1.0f, std::nanf(""), 0.5f};
    Generator generator(1);
    CHECK_THROWS_WITH(sample_token(broken, std::vector<int32_t>{}, SamplingOptions{}, generator),
                      doctest::Contains("not finite"));
}
