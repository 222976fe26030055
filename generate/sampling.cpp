#include "generate/sampling.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <sstream>
#include <stdexcept>
#include <string>

namespace gpt {

namespace {

std::string number(double value) {  // "0.5", "-1", "1e-09": as short as it reads
    std::ostringstream out;
    out << value;
    return out.str();
}

}  // namespace

void SamplingOptions::validate() const {
    auto fail = [](const std::string& message) { throw std::invalid_argument(message); };
    if (!(temperature == 0.0f || (temperature >= kMinTemperature && temperature <= kMaxTemperature)))
        fail("--temperature must be 0 (greedy) or in [" + number(kMinTemperature) + ", " + number(kMaxTemperature) +
             "], got " + number(temperature));
    if (top_k < 0) fail("--top_k must be >= 0 (0 = off), got " + std::to_string(top_k));
    if (!(top_p > 0.0f && top_p <= 1.0f)) fail("--top_p must be in (0, 1] (1 = off), got " + number(top_p));
    if (!(repetition_penalty >= kMinRepetitionPenalty && repetition_penalty <= kMaxRepetitionPenalty))
        fail("--repetition_penalty must be in [" + number(kMinRepetitionPenalty) + ", " + number(kMaxRepetitionPenalty) +
             "] (1 = off), got " + number(repetition_penalty));
}

const std::vector<SamplingField>& sampling_fields() {
    static const std::vector<SamplingField> fields = {
        {"temperature", "softmax temperature; 0 = greedy", &SamplingOptions::temperature, nullptr},
        {"top_k", "keep the k most likely tokens; 0 = off", nullptr, &SamplingOptions::top_k},
        {"top_p", "keep the smallest set of most likely tokens whose probability reaches p, after top_k; 1 = off",
         &SamplingOptions::top_p, nullptr},
        {"repetition_penalty", "divide positive / multiply negative logits of tokens already in the window; 1 = off",
         &SamplingOptions::repetition_penalty, nullptr},
    };
    return fields;
}

void apply_repetition_penalty(std::vector<float>& logits, std::span<const int32_t> context, float penalty) {
    if (penalty == 1.0f) return;
    std::vector<bool> seen(logits.size(), false);
    for (const int32_t id : context) {
        if (id < 0 || static_cast<size_t>(id) >= logits.size())
            throw std::out_of_range("apply_repetition_penalty: token id " + std::to_string(id) + " outside [0, " +
                                    std::to_string(logits.size()) + ")");
        if (seen[static_cast<size_t>(id)]) continue;  // once per distinct token, however often it occurs
        seen[static_cast<size_t>(id)] = true;
        float& logit = logits[static_cast<size_t>(id)];
        logit = logit > 0.0f ? logit / penalty : logit * penalty;
    }
}

int32_t argmax(std::span<const float> values) {
    if (values.empty()) throw std::invalid_argument("argmax: empty vector");
    return static_cast<int32_t>(std::max_element(values.begin(), values.end()) - values.begin());
}

std::vector<float> softmax_with_temperature(std::span<const float> logits, float temperature) {
    std::vector<float> probs(logits.size(), 0.0f);
    if (temperature == 0.0f) {
        probs[static_cast<size_t>(argmax(logits))] = 1.0f;
        return probs;
    }
    const float max = logits[static_cast<size_t>(argmax(logits))];
    double sum = 0.0;
    for (size_t i = 0; i < logits.size(); ++i) {
        probs[i] = std::exp((logits[i] - max) / temperature);
        sum += probs[i];
    }
    for (float& p : probs) p = static_cast<float>(p / sum);
    return probs;
}

namespace {

// Ids ordered by probability, highest first, lower id first on ties.
std::vector<int32_t> by_probability(std::span<const float> probs) {
    std::vector<int32_t> order(probs.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
        return probs[static_cast<size_t>(a)] > probs[static_cast<size_t>(b)];
    });
    return order;
}

void renormalise(std::vector<float>& probs) {
    double sum = 0.0;
    for (const float p : probs) sum += p;
    for (float& p : probs) p = static_cast<float>(p / sum);
}

}  // namespace

void keep_top_k(std::vector<float>& probs, int64_t k) {
    if (k <= 0 || k >= static_cast<int64_t>(probs.size())) return;
    const std::vector<int32_t> order = by_probability(probs);
    for (size_t rank = static_cast<size_t>(k); rank < order.size(); ++rank) probs[static_cast<size_t>(order[rank])] = 0.0f;
    renormalise(probs);
}

void keep_top_p(std::vector<float>& probs, float p) {
    if (p >= 1.0f) return;
    const std::vector<int32_t> order = by_probability(probs);
    double mass = 0.0;
    size_t kept = 0;
    while (kept < order.size() && mass < p) mass += probs[static_cast<size_t>(order[kept++])];
    for (size_t rank = kept; rank < order.size(); ++rank) probs[static_cast<size_t>(order[rank])] = 0.0f;
    renormalise(probs);
}

std::vector<float> sampling_distribution(std::span<const float> logits, std::span<const int32_t> context,
                                         const SamplingOptions& options) {
    std::vector<float> adjusted(logits.begin(), logits.end());
    apply_repetition_penalty(adjusted, context, options.repetition_penalty);
    std::vector<float> probs = softmax_with_temperature(adjusted, options.temperature);
    keep_top_k(probs, options.top_k);
    keep_top_p(probs, options.top_p);
    double total = 0.0;
    bool valid = true;
    for (const float p : probs) {
        valid = valid && std::isfinite(p) && p >= 0.0f;
        total += p;
    }
    if (!valid || !(std::fabs(total - 1.0) < 1e-3))
        throw std::runtime_error("the next-token distribution is not finite and normalised (sum " + number(total) +
                                 "): the model's logits hold NaN or infinite values");
    return probs;
}

int32_t draw(std::span<const float> probs, Generator& generator) {
    if (probs.empty()) throw std::invalid_argument("draw: empty distribution");
    double total = 0.0;
    for (const float p : probs) total += p;
    // Scaling the uniform by the actual total keeps the draw exact when rounding left the sum at 1 ± ε.
    const double u = generator.uniform_double() * total;
    double cumulative = 0.0;
    int32_t last_nonzero = 0;
    for (size_t i = 0; i < probs.size(); ++i) {
        if (probs[i] <= 0.0f) continue;
        cumulative += probs[i];
        last_nonzero = static_cast<int32_t>(i);
        if (u < cumulative) return last_nonzero;
    }
    return last_nonzero;
}

int32_t sample_token(std::span<const float> logits, std::span<const int32_t> context, const SamplingOptions& options,
                     Generator& generator) {
    const std::vector<float> probs = sampling_distribution(logits, context, options);
    if (options.temperature == 0.0f) return argmax(probs);
    return draw(probs, generator);
}

std::vector<Candidate> top_candidates(std::span<const float> probs, int64_t n) {
    std::vector<Candidate> out;
    for (const int32_t id : by_probability(probs)) {
        if (static_cast<int64_t>(out.size()) >= n || probs[static_cast<size_t>(id)] <= 0.0f) break;
        out.push_back({id, probs[static_cast<size_t>(id)]});
    }
    return out;
}

}  // namespace gpt
