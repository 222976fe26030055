#include <doctest/doctest.h>

#include <cmath>
#include <numeric>
#include <stdexcept>

#include "data/batch_sampler.h"
#include "data/bpe_trainer.h"
#include "data/char_tokenizer.h"
#include "data/masked_lm.h"

using namespace gpt;

namespace {

std::unique_ptr<Tokenizer> char_tokenizer_with_mlm_tokens(const std::string& text, bool end_of_text = false) {
    CharTrainOptions options;
    if (end_of_text) options.special_tokens.emplace_back(kEndOfText);
    return with_special_tokens(*CharTokenizer::train(text, options), masked_lm_token_names());
}

}  // namespace

TEST_CASE("masked LM tokens: appended after any tokenizer's vocabulary, encodings unchanged, idempotent") {
    const std::string text = "To be, or not to be: that is the question. [MASK]";
    const auto plain = CharTokenizer::train(text, {});
    const auto added = with_special_tokens(*plain, masked_lm_token_names());
    REQUIRE(added->vocab_size() == plain->vocab_size() + 4);
    CHECK(added->encode(text) == plain->encode(text));  // "[MASK]" in text stays ordinary characters
    const MaskedLmTokens tokens = MaskedLmTokens::of(*added);
    CHECK(tokens.pad == plain->vocab_size());
    CHECK(tokens.cls == plain->vocab_size() + 1);
    CHECK(tokens.sep == plain->vocab_size() + 2);
    CHECK(tokens.mask == plain->vocab_size() + 3);
    CHECK(tokens.ordinary == plain->vocab_size());
    CHECK(added->token_bytes(tokens.mask) == "[MASK]");
    CHECK(added->encode("a[MASK]", {.allow_special = true}).back() == tokens.mask);
    // Through the saved state (a checkpoint's /tokenizer) and again: the same ids.
    const auto reloaded = Tokenizer::from_state(added->state());
    CHECK(MaskedLmTokens::of(*reloaded).mask == tokens.mask);
    CHECK(with_special_tokens(*reloaded, masked_lm_token_names())->vocab_size() == added->vocab_size());
    // A tokenizer with <|endoftext|>: the new ids follow it; it is special (never masked, never a random pick).
    const auto with_eot = char_tokenizer_with_mlm_tokens(text, true);
    const MaskedLmTokens eot_tokens = MaskedLmTokens::of(*with_eot);
    CHECK(eot_tokens.specials.size() == 5);
    CHECK(eot_tokens.is_special(*with_eot->end_of_text_id()));
    CHECK(eot_tokens.ordinary == *with_eot->end_of_text_id());
    // Byte-level BPE too.
    BpeTrainOptions bpe_options;
    bpe_options.vocab_size = 270;
    const auto bpe = train_bpe(std::string_view(text + text + text), bpe_options);
    const auto bpe_added = with_special_tokens(*bpe, masked_lm_token_names());
    CHECK(bpe_added->vocab_size() == bpe->vocab_size() + 4);
    CHECK(MaskedLmTokens::of(*Tokenizer::from_state(bpe_added->state())).mask == bpe->vocab_size() + 3);
    CHECK(bpe_added->encode(text) == bpe->encode(text));
}

TEST_CASE("masked LM tokens: a tokenizer without them is refused by name") {
    const auto plain = CharTokenizer::train("abc", {});
    CHECK_THROWS_WITH_AS(MaskedLmTokens::of(*plain), doctest::Contains("has no [PAD]"), std::invalid_argument);
    CHECK(MaskedLmTokens::ordinary_of(*plain).ordinary == 3);
}

TEST_CASE("masked LM batch: [CLS] window [SEP], 15 % chosen, 80/10/10, targets only at the chosen positions") {
    // 64 ordinary ids 0..63 and the four specials 64..67.
    MaskedLmTokens tokens;
    tokens.pad = 64, tokens.cls = 65, tokens.sep = 66, tokens.mask = 67, tokens.ordinary = 64;
    tokens.specials = {64, 65, 66, 67};
    const int64_t B = 4, T = 42;  // 40 text positions per window: round(0.15 · 40) = 6 chosen
    std::vector<int32_t> corpus(5000);
    for (size_t i = 0; i < corpus.size(); ++i) corpus[i] = int32_t((i * 37 + i / 64) % 64);
    BatchSampler sampler(TokenSpan(corpus), B, T, 11);
    int64_t chosen = 0, masked = 0, random = 0, kept = 0;
    for (int step = 0; step < 500; ++step) {
        Batch batch = sampler.next_batch();
        const std::vector<int32_t> window = batch.inputs;
        Generator generator = masking_generator(sampler.state());
        make_masked_lm_batch(batch.inputs, batch.targets, B, T, tokens, generator);
        for (int64_t b = 0; b < B; ++b) {
            const int32_t* in = batch.inputs.data() + b * T;
            const int32_t* target = batch.targets.data() + b * T;
            REQUIRE(in[0] == tokens.cls);
            REQUIRE(in[T - 1] == tokens.sep);
            CHECK(target[0] == kIgnoredTarget);
            CHECK(target[T - 1] == kIgnoredTarget);
            int64_t in_window = 0;
            for (int64_t t = 1; t < T - 1; ++t) {
                const int32_t original = window[size_t(b * T + t - 1)];
                if (target[t] == kIgnoredTarget) {
                    REQUIRE(in[t] == original);  // not chosen: the text as it was
                    continue;
                }
                ++in_window;
                REQUIRE(target[t] == original);
                if (in[t] == tokens.mask) ++masked;
                else if (in[t] == original) ++kept;  // (a random pick equal to the original counts as kept)
                else {
                    REQUIRE(in[t] >= 0);
                    REQUIRE(in[t] < tokens.ordinary);
                    ++random;
                }
            }
            CHECK(in_window == 6);
            chosen += in_window;
        }
    }
    REQUIRE(chosen == 500 * B * 6);
    // 12,000 draws: the fractions' standard deviations are below 0.4 %; 2 % is more than 5 of them.
    const double n = static_cast<double>(chosen);
    CHECK(std::abs(masked / n - 0.8) < 0.02);
    CHECK(std::abs(random / n - 0.1 * 63.0 / 64.0) < 0.02);
    CHECK(std::abs(kept / n - (0.1 + 0.1 / 64.0)) < 0.02);
}

TEST_CASE("masked LM batch: special tokens in the text are never chosen; every position is chosen alike") {
    MaskedLmTokens tokens;
    tokens.pad = 10, tokens.cls = 11, tokens.sep = 12, tokens.mask = 13, tokens.ordinary = 9;
    tokens.specials = {9, 10, 11, 12, 13};  // 9: <|endoftext|>
    const int64_t B = 1, T = 22;
    std::vector<int64_t> times_chosen(size_t(T), 0);
    Generator generator(5);
    for (int trial = 0; trial < 4000; ++trial) {
        std::vector<int32_t> inputs(static_cast<size_t>(T)), targets(static_cast<size_t>(T));
        for (int64_t t = 0; t < T; ++t) inputs[size_t(t)] = t == 5 ? 9 : int32_t(t % 9);
        make_masked_lm_batch(inputs, targets, B, T, tokens, generator);
        CHECK(inputs[6] == 9);  // text position 5, after [CLS]
        CHECK(targets[6] == kIgnoredTarget);
        for (int64_t t = 0; t < T; ++t) times_chosen[size_t(t)] += targets[size_t(t)] != kIgnoredTarget;
    }
    // 19 candidates, round(0.15 · 19) = 3 chosen: each position 3/19 of the time (±4 standard deviations).
    for (int64_t t = 1; t < T - 1; ++t) {
        if (t == 6) continue;
        CHECK(std::abs(double(times_chosen[size_t(t)]) / 4000.0 - 3.0 / 19.0) < 0.025);
    }
}

TEST_CASE("masked LM batch: deterministic from the sampler's state; short windows refused") {
    MaskedLmTokens tokens;
    tokens.pad = 20, tokens.cls = 21, tokens.sep = 22, tokens.mask = 23, tokens.ordinary = 20;
    tokens.specials = {20, 21, 22, 23};
    std::vector<int32_t> corpus(300);
    for (size_t i = 0; i < corpus.size(); ++i) corpus[i] = int32_t(i % 20);
    BatchSampler a(TokenSpan(corpus), 2, 16, 3), b(TokenSpan(corpus), 2, 16, 3);
    a.next_batch();
    b.skip_batch();  // a data-parallel rank skips another's batch: the state moves alike
    CHECK(a.state().rng == b.state().rng);
    Batch x = a.next_batch(), y = b.next_batch();
    Generator gx = masking_generator(a.state()), gy = masking_generator(b.state());
    make_masked_lm_batch(x.inputs, x.targets, 2, 16, tokens, gx);
    make_masked_lm_batch(y.inputs, y.targets, 2, 16, tokens, gy);
    CHECK(x.inputs == y.inputs);
    CHECK(x.targets == y.targets);
    // The next batch masks differently (its state differs).
    Batch z = a.next_batch();
    Generator gz = masking_generator(a.state());
    make_masked_lm_batch(z.inputs, z.targets, 2, 16, tokens, gz);
    CHECK(z.targets != x.targets);
    std::vector<int32_t> two(2), two_targets(2);
    CHECK_THROWS_WITH_AS(make_masked_lm_batch(two, two_targets, 1, 2, tokens, gz), doctest::Contains("T >= 3"),
                         std::invalid_argument);
}

TEST_CASE("masked LM evaluation masking: 15 % of positions, a function of (seed, position) alone") {
    int64_t chosen = 0;
    for (int64_t i = 0; i < 100000; ++i) chosen += masked_in_evaluation(2019, i);
    CHECK(std::abs(double(chosen) / 100000.0 - 0.15) < 0.005);
    CHECK(masked_in_evaluation(2019, 12345) == masked_in_evaluation(2019, 12345));
    int64_t differ = 0;
    for (int64_t i = 0; i < 1000; ++i) differ += masked_in_evaluation(2019, i) != masked_in_evaluation(7, i);
    CHECK(differ > 100);
}
