// analyse_pair (report/pair_analysis.h): the attention the encoder–decoder's own forward records for a
// source/target pair has the shapes and the masks each kind of attention must have (encoder rows over
// every source token, decoder rows causal, cross rows over the source), and its logits are the model's
// forward's, position for position.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "nn/init.h"
#include "report/pair_analysis.h"

using namespace gpt;

namespace {

EncoderDecoderConfig tiny_config(bool norm_first) {
    EncoderDecoderConfig c;
    c.source_vocab_size = c.target_vocab_size = 9;  // 7 tokenizer ids + bos + eos
    c.source_block_size = 8;
    c.target_block_size = 6;
    c.n_encoder_layer = 2;
    c.n_decoder_layer = 3;
    c.n_head = 2;
    c.n_embd = 8;
    c.dropout = 0.1;  // eval mode turns it off
    c.norm_first = norm_first;
    return c;
}

double row_sum(const float* row, int64_t n) {
    double s = 0.0;
    for (int64_t j = 0; j < n; ++j) s += row[j];
    return s;
}

}  // namespace

TEST_CASE("analyse_pair: encoder, decoder and cross attention maps and the forward's logits") {
    for (const bool norm_first : {false, true}) {
        CAPTURE(norm_first);
        EncoderDecoder model(tiny_config(norm_first));
        Generator generator(7);
        init_encoder_decoder(model, generator);
        model.eval();
        const Seq2SeqVocabulary vocabulary{7};
        const std::vector<int32_t> source = {1, 2, 3, 4, 5}, target = {5, 4, 3};
        const PairAnalysis a = analyse_pair(model, vocabulary, source, target);
        const int64_t S = 5, T = 4, H = 2;
        CHECK(a.S == S);
        CHECK(a.T == T);
        CHECK(a.decoder_input == std::vector<int32_t>{7, 5, 4, 3});
        REQUIRE(a.attention.encoder_attention.size() == 2);
        REQUIRE(a.attention.decoder_attention.size() == 3);
        REQUIRE(a.attention.cross_attention.size() == 3);
        for (const Tensor& p : a.attention.encoder_attention) {
            REQUIRE(p.shape() == std::vector<int64_t>{1, H, S, S});
            for (int64_t r = 0; r < H * S; ++r) {
                CHECK(row_sum(p.data() + r * S, S) == doctest::Approx(1.0).epsilon(1e-5));
                CHECK(p.data()[r * S + S - 1] > 0.0f);  // bidirectional: the first token sees the last
            }
        }
        for (const Tensor& p : a.attention.decoder_attention) {
            REQUIRE(p.shape() == std::vector<int64_t>{1, H, T, T});
            for (int64_t h = 0; h < H; ++h)
                for (int64_t i = 0; i < T; ++i) {
                    const float* row = p.data() + (h * T + i) * T;
                    CHECK(row_sum(row, T) == doctest::Approx(1.0).epsilon(1e-5));
                    for (int64_t j = i + 1; j < T; ++j) CHECK(row[j] == 0.0f);  // causal
                }
        }
        for (const Tensor& p : a.attention.cross_attention) {
            REQUIRE(p.shape() == std::vector<int64_t>{1, H, T, S});
            for (int64_t r = 0; r < H * T; ++r) CHECK(row_sum(p.data() + r * S, S) == doctest::Approx(1.0).epsilon(1e-5));
        }
        // The logits are the model's forward's (the same code; no probe, no cache).
        NoGradGuard no_grad;
        Generator unused(0);
        const Tensor logits = model.forward(source, 1, S, {}, a.decoder_input, T, {}, unused);
        REQUIRE(static_cast<int64_t>(a.logits.size()) == logits.numel());
        for (int64_t i = 0; i < logits.numel(); ++i) CHECK(a.logits[static_cast<size_t>(i)] == logits.data()[i]);
        CHECK(a.row(T - 1) == a.logits.data() + (T - 1) * 9);
    }
}

TEST_CASE("analyse_pair: lengths past the model's contexts and train mode are refused") {
    EncoderDecoder model(tiny_config(false));
    Generator generator(7);
    init_encoder_decoder(model, generator);
    const Seq2SeqVocabulary vocabulary{7};
    CHECK_THROWS_WITH_AS(analyse_pair(model, vocabulary, {1}, {}), doctest::Contains("train mode"), std::invalid_argument);
    model.eval();
    CHECK_THROWS_WITH_AS(analyse_pair(model, vocabulary, {}, {1}), doctest::Contains("source_block_size"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(analyse_pair(model, vocabulary, std::vector<int32_t>(9, 1), {1}),
                         doctest::Contains("the source has 9 tokens"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(analyse_pair(model, vocabulary, {1}, std::vector<int32_t>(6, 1)),
                         doctest::Contains("target_block_size 6"), std::invalid_argument);
    CHECK(analyse_pair(model, vocabulary, {1}, std::vector<int32_t>(5, 1)).T == 6);
}
