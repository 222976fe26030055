// Greedy decoding and beam search for the encoder–decoder Transformer (generate/seq2seq.h): what they
// compute step by step with the decoder cache equals the uncached full forward over the same tokens;
// beam width 1 is greedy; scores follow the length penalty; errors are one line.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "generate/seq2seq.h"

using namespace gpt;

namespace {

EncoderDecoderConfig toy_config(bool norm_first) {
    EncoderDecoderConfig c;
    c.source_vocab_size = c.target_vocab_size = 9;
    c.source_block_size = 8;
    c.target_block_size = 12;
    c.n_encoder_layer = c.n_decoder_layer = 2;
    c.n_head = 2;
    c.n_embd = 16;
    c.dim_feedforward = 32;
    c.dropout = 0.1;  // eval mode turns it off
    c.norm_first = norm_first;
    return c;
}

// Weights N(0, 0.5²): peaked next-token distributions, so the outputs vary with the source and eos
// (id 1) comes up within a few steps for some sources and not for others.
void randomise(Module& model, Generator& generator) {
    for (auto& [name, t] : model.named_parameters()) {
        const bool norm = name.find("ln_") != std::string::npos;
        for (int64_t i = 0; i < t.numel(); ++i)
            t.data()[i] = static_cast<float>((norm && name.back() == 't' ? 1.0 : 0.0) + 0.5 * generator.normal());
    }
}

std::vector<int32_t> random_source(Generator& generator, int64_t length) {
    std::vector<int32_t> ids(static_cast<size_t>(length));
    for (auto& id : ids) id = 2 + static_cast<int32_t>(generator.next_u64() % 7);
    return ids;
}

// Without any cache: the full forward over [bos, tokens…], log-softmax of every row in double.
std::vector<std::vector<double>> full_log_probs(const EncoderDecoder& model, const std::vector<int32_t>& source,
                                                const std::vector<int32_t>& input) {
    NoGradGuard no_grad;
    Generator unused(0);
    const int64_t T = static_cast<int64_t>(input.size());
    const Tensor logits = model.forward(source, 1, static_cast<int64_t>(source.size()), {}, input, T, {}, unused);
    const int64_t V = logits.size(-1);
    std::vector<std::vector<double>> rows;
    for (int64_t t = 0; t < T; ++t) {
        const float* l = logits.data() + t * V;
        double max = *std::max_element(l, l + V), sum = 0.0;
        for (int64_t v = 0; v < V; ++v) sum += std::exp(double(l[v]) - max);
        std::vector<double> row;
        for (int64_t v = 0; v < V; ++v) row.push_back(double(l[v]) - max - std::log(sum));
        rows.push_back(row);
    }
    return rows;
}

// Σ log p of the hypothesis's tokens (and its eos) under the full forward.
double full_log_prob(const EncoderDecoder& model, const std::vector<int32_t>& source, const Hypothesis& h,
                     const Seq2SeqOptions& o) {
    std::vector<int32_t> input{o.bos};
    input.insert(input.end(), h.tokens.begin(), h.tokens.end());
    const auto rows = full_log_probs(model, source, input);
    double total = 0.0;
    for (size_t t = 0; t < h.tokens.size(); ++t) total += rows[t][static_cast<size_t>(h.tokens[t])];
    if (h.finished) total += rows[h.tokens.size()][static_cast<size_t>(o.eos)];
    return total;
}

}  // namespace

TEST_CASE("seq2seq greedy: every cached step picks the full forward's argmax, with the full forward's log-probability") {
    for (bool norm_first : {false, true}) {
        CAPTURE(norm_first);
        EncoderDecoder model(toy_config(norm_first));
        Generator generator(40 + norm_first);
        randomise(model, generator);
        model.eval();
        Seq2SeqOptions o;
        o.max_new_tokens = 10;
        // eos: the third token a first greedy run emits, so that some outputs end with it and some are cut.
        o.eos = greedy_decode(model, random_source(generator, 4), o).tokens.at(2);
        int finished = 0;
        for (int trial = 0; trial < 8; ++trial) {
            const std::vector<int32_t> source = random_source(generator, 3 + trial % 5);
            const Hypothesis h = greedy_decode(model, source, o);
            finished += h.finished;
            std::vector<int32_t> input{o.bos};
            input.insert(input.end(), h.tokens.begin(), h.tokens.end());
            const auto rows = full_log_probs(model, source, input);
            for (size_t t = 0; t < rows.size(); ++t) {
                const int32_t chosen = t < h.tokens.size() ? h.tokens[t] : o.eos;
                if (t == h.tokens.size() && !h.finished) break;  // cut at max_new_tokens: no choice there
                CHECK(std::max_element(rows[t].begin(), rows[t].end()) - rows[t].begin() == chosen);
            }
            CHECK(h.log_prob == doctest::Approx(full_log_prob(model, source, h, o)).epsilon(1e-5));
        }
        MESSAGE("greedy, norm_first " << norm_first << ": " << finished << " of 8 outputs ended with eos");
        CHECK(finished > 0);
    }
}

TEST_CASE("seq2seq beam search: every hypothesis's log-probability equals the full forward's; scores by length "
          "penalty, best first; beam width 1 equals greedy") {
    EncoderDecoder model(toy_config(false));
    Generator generator(77);
    randomise(model, generator);
    model.eval();
    int finished = 0;
    Seq2SeqOptions first;
    first.max_new_tokens = 9;
    const int32_t eos = greedy_decode(model, random_source(generator, 4), first).tokens.at(2);  // as above
    for (double alpha : {0.0, 0.6, 1.0}) {
        CAPTURE(alpha);
        Seq2SeqOptions o;
        o.max_new_tokens = 9;
        o.eos = eos;
        o.length_penalty = alpha;
        for (int trial = 0; trial < 6; ++trial) {
            const std::vector<int32_t> source = random_source(generator, 2 + trial);
            o.beam_width = 4;
            const std::vector<Hypothesis> beams = beam_search(model, source, o);
            REQUIRE(!beams.empty());
            for (const Hypothesis& h : beams) finished += h.finished;
            CHECK(beams.size() <= 4);
            for (size_t i = 0; i < beams.size(); ++i) {
                const Hypothesis& h = beams[i];
                CHECK(h.log_prob == doctest::Approx(full_log_prob(model, source, h, o)).epsilon(1e-5));
                const double length = double(h.tokens.size() + h.finished);
                CHECK(h.score == doctest::Approx(h.log_prob / std::pow(length, alpha)).epsilon(1e-12));
                if (i > 0) CHECK(beams[i - 1].score >= h.score);
            }
            o.beam_width = 1;
            const std::vector<Hypothesis> one = beam_search(model, source, o);
            const Hypothesis greedy = greedy_decode(model, source, o);
            REQUIRE(one.size() == 1);
            CHECK(one[0].tokens == greedy.tokens);
            CHECK(one[0].finished == greedy.finished);
            CHECK(one[0].log_prob == greedy.log_prob);
        }
    }
    MESSAGE("beam search: " << finished << " hypotheses ended with eos");
    CHECK(finished > 0);
}

TEST_CASE("seq2seq generation: bad options and a model in train mode are refused with one line") {
    EncoderDecoder model(toy_config(false));
    Seq2SeqOptions o;
    o.max_new_tokens = 5;
    CHECK_THROWS_WITH_AS(greedy_decode(model, {2, 3}, o), doctest::Contains("train mode"), std::invalid_argument);
    model.eval();
    o.max_new_tokens = 12;
    CHECK_THROWS_WITH_AS(greedy_decode(model, {2, 3}, o),
                         "seq2seq generation: max_new_tokens 12 is outside [1, target_block_size − 1 = 11]",
                         std::invalid_argument);
    o.max_new_tokens = 5;
    o.beam_width = 0;
    CHECK_THROWS_WITH_AS(beam_search(model, {2, 3}, o), doctest::Contains("beam_width must be at least 1"),
                         std::invalid_argument);
    o.beam_width = 2;
    CHECK_THROWS_WITH_AS(beam_search(model, std::vector<int32_t>(9, 2), o),
                         doctest::Contains("more than source_block_size 8"), std::invalid_argument);
    o.eos = 9;
    CHECK_THROWS_WITH_AS(beam_search(model, {2}, o), doctest::Contains("bos/eos id 9"), std::invalid_argument);
}
