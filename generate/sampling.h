// From the model's next-token logits [V] to one token id: pure functions over plain vectors, in the
// order sample_token applies them:
//   1. repetition penalty  every distinct token already in the context: logit/r if positive, logit·r if
//                          not (Keskar et al. 2019, as Hugging Face's RepetitionPenaltyLogitsProcessor)
//   2. temperature         p = softmax(logits / T); T = 0 means greedy: all mass on the argmax
//   3. top-k               keep the k most probable tokens (0 = off), renormalise
//   4. top-p (nucleus)     keep the smallest set of most probable tokens whose mass reaches p
//                          (Holtzman et al. 2019; 1 = off), renormalise
//   5. draw                one uniform from the caller's Generator, inverse CDF over ids in order
// Ties in probability are broken by the lower id, so every step is deterministic given the seed.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "common/random.h"

namespace gpt {

// The valid range of every sampling parameter, checked in one place (SamplingOptions::validate) for
// `gpt sample`, the sampling of `gpt train` and `gpt serve`'s requests. The bounds keep every step finite
// for finite logits of any float32 magnitude a model produces: logits/T and logits·r or logits/r stay
// finite (|logit| · 100 · 1000 < FLT_MAX for |logit| < 3e33).
//   temperature         0 (greedy) or [1e-3, 1e3]
//   top_k               >= 0 (0 = off; k >= V keeps everything)
//   top_p               (0, 1] (1 = off)
//   repetition_penalty  [1e-2, 1e2] (1 = off)
inline constexpr float kMinTemperature = 1e-3f, kMaxTemperature = 1e3f;
inline constexpr float kMinRepetitionPenalty = 1e-2f, kMaxRepetitionPenalty = 1e2f;

struct SamplingOptions {
    float temperature = 0.8f;  // 0: greedy
    int64_t top_k = 0;         // 0: off
    float top_p = 1.0f;        // in (0, 1]; 1: off
    float repetition_penalty = 1.0f;  // 1: off

    // Throws std::invalid_argument naming the option and its range: "--temperature must be 0 (greedy) or
    // in [0.001, 1000], got -1".
    void validate() const;
};

// Every sampling option, declared once: `gpt sample`'s command-line options (cli/sample_command.cpp) and
// `gpt serve`'s request fields (serve/request.cpp) are made from this list, so a new option is a member
// above, a row in sampling_fields() and its check in validate() (generate/sampling.cpp).
struct SamplingField {
    const char* name;  // --name on the command line, "name" in a request
    const char* help;
    float SamplingOptions::*number = nullptr;     // a real-valued option
    int64_t SamplingOptions::*integer = nullptr;  // or an integer one
};
const std::vector<SamplingField>& sampling_fields();

void apply_repetition_penalty(std::vector<float>& logits, std::span<const int32_t> context, float penalty);

// softmax(logits / temperature) in double-accumulated, max-subtracted form; temperature 0 gives the
// one-hot of the argmax.
std::vector<float> softmax_with_temperature(std::span<const float> logits, float temperature);

// Zero all but the k most probable entries and renormalise; k = 0 or k >= V leaves probs as they are.
void keep_top_k(std::vector<float>& probs, int64_t k);

// Zero all but the smallest most-probable set whose mass reaches p, and renormalise; p >= 1 is a no-op.
void keep_top_p(std::vector<float>& probs, float p);

// Steps 1-4: the distribution a token is drawn from (sums to 1, zeros outside the kept set). Throws
// std::runtime_error when it is not a finite, normalised distribution (a NaN or infinite logit): nothing
// is ever drawn from one.
std::vector<float> sampling_distribution(std::span<const float> logits, std::span<const int32_t> context,
                                         const SamplingOptions& options);

int32_t argmax(std::span<const float> values);  // the first maximum

// Inverse-CDF draw of one id from probs (non-negative, summing to ~1) with one uniform_double().
int32_t draw(std::span<const float> probs, Generator& generator);

// Steps 1-5. Greedy (temperature 0) takes the argmax and draws nothing from the generator.
int32_t sample_token(std::span<const float> logits, std::span<const int32_t> context, const SamplingOptions& options,
                     Generator& generator);

// The n most probable entries of a processed distribution, most probable first (ties: lower id first),
// zero-probability entries left out: what --show_probs prints.
struct Candidate {
    int32_t id;
    float probability;
};
std::vector<Candidate> top_candidates(std::span<const float> probs, int64_t n);

}  // namespace gpt
