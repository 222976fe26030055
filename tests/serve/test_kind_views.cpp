// gpt serve's views of the other kinds of model (serve/api.h): a transformer run's forward view is
// report/pair_analysis's maps of the model's own encode and decode, laid out [L][H][rows][cols], and its
// answer obeys the response bound as the GPT's does (413 naming the limit, or "fit": whole maps in the
// page's order); a bert run's maps are full matrices, and the bound counts them whole.
#include <doctest/doctest.h>

#include <string>

#include <nlohmann/json.hpp>

#include "data/char_tokenizer.h"
#include "nn/init.h"
#include "report/pair_analysis.h"
#include "serve/api.h"

using namespace gpt;
using nlohmann::json;

namespace {

LoadedEncoderDecoder encoder_decoder_of(int64_t block, int64_t layers, int64_t heads) {
    LoadedEncoderDecoder loaded;
    loaded.tokenizer = CharTokenizer::train("abcdef");
    EncoderDecoderConfig& c = loaded.config;
    c.source_vocab_size = c.target_vocab_size = loaded.tokenizer->vocab_size() + 2;
    c.source_block_size = c.target_block_size = block;
    c.n_encoder_layer = layers;
    c.n_decoder_layer = layers - 1;  // stacks of different depths: "layers" indexes the deeper
    c.n_head = heads;
    c.n_embd = 16;
    c.dropout = 0.0;
    loaded.model = std::make_unique<EncoderDecoder>(c);
    Generator init(3);
    init_encoder_decoder(*loaded.model, init);
    loaded.model->eval();
    return loaded;
}

LoadedCheckpoint gpt_of(const std::string& kind, int64_t block) {
    LoadedCheckpoint loaded;
    loaded.tokenizer = CharTokenizer::train("abcdef");
    GPTConfig& c = loaded.model_config;
    c.kind = kind;
    c.vocab_size = loaded.tokenizer->vocab_size();
    c.block_size = block;
    c.n_layer = 6;
    c.n_head = 8;
    c.n_embd = 16;
    c.dropout = 0.0;
    loaded.model = std::make_unique<GPT>(c);
    Generator init(4);
    init_gpt2(*loaded.model, init);
    loaded.model->eval();
    return loaded;
}

int64_t maps_sent(const json& group) {
    int64_t n = 0;
    for (const json& layer : group)
        for (const json& m : layer) n += m.is_null() ? 0 : 1;
    return n;
}

}  // namespace

TEST_CASE("transformer forward view: report/pair_analysis's maps, as [L][H][rows][cols]") {
    const LoadedEncoderDecoder loaded = encoder_decoder_of(8, 2, 2);
    const json view = translate_forward_view(loaded, {{"source", "abcd"}, {"target", "dcb"}, {"position", 1}});
    const Seq2SeqVocabulary vocabulary{loaded.tokenizer->vocab_size()};
    const PairAnalysis pair =
        analyse_pair(*loaded.model, vocabulary, loaded.tokenizer->encode("abcd"), loaded.tokenizer->encode("dcb"));
    REQUIRE(view["S"] == 4);
    REQUIRE(view["T"] == 4);
    auto same = [](const json& sent, const Tensor& recorded, int64_t rows, int64_t cols) {
        for (int64_t h = 0; h < 2; ++h)
            for (int64_t i = 0; i < rows; ++i)
                for (int64_t j = 0; j < cols; ++j)
                    CHECK(sent[static_cast<size_t>(h)][static_cast<size_t>(i)][static_cast<size_t>(j)].get<double>() ==
                          doctest::Approx(recorded.data()[(h * rows + i) * cols + j]).epsilon(5e-4).scale(1e-3));
    };
    REQUIRE(view["encoder_attention"].size() == 2);
    REQUIRE(view["decoder_attention"].size() == 1);
    same(view["encoder_attention"][1], pair.attention.encoder_attention[1], 4, 4);
    same(view["decoder_attention"][0], pair.attention.decoder_attention[0], 4, 4);
    same(view["cross_attention"][0], pair.attention.cross_attention[0], 4, 4);
    CHECK(view["decoder_tokens"][0]["text"] == "<bos>");
    CHECK(view["expected"]["id"] == loaded.tokenizer->encode("c")[0]);  // position 1 predicts the target's 2nd token
    CHECK(view["translation"].is_null());
}

TEST_CASE("transformer forward view: over the response bound, 413 naming it, or with fit what fits, whole") {
    const LoadedEncoderDecoder loaded = encoder_decoder_of(512, 4, 8);
    const json request = {{"source", std::string(400, 'a')}, {"target", std::string(400, 'b')}};
    try {
        translate_forward_view(loaded, request);
        FAIL("no 413");
    } catch (const ResponseTooLarge& e) {
        const std::string message = e.what();
        CHECK(message.find(std::to_string(kMaxResponseBytes)) != std::string::npos);
        CHECK(message.find("\"fit\": true") != std::string::npos);
    }
    json fit = request;
    fit["fit"] = true;
    const json answer = translate_forward_view(loaded, fit);
    CHECK(answer["truncated"] == true);
    CHECK(answer.dump().size() <= kMaxResponseBytes);
    // The page's order: layer 0's heads (encoder, decoder, cross each), then layer 1's...: the first maps
    // are layer 0 head 0's three, whole (S = 400 source tokens, T = 401 decoder inputs).
    REQUIRE(answer["encoder_attention"][0][0].size() == 400);
    CHECK(answer["decoder_attention"][0][0].size() == 401);  // bos + 400
    CHECK(answer["cross_attention"][0][0][399].size() == 400);
    CHECK(answer["encoder_attention"][3][7].is_null());
    const int64_t sent = maps_sent(answer["encoder_attention"]) + maps_sent(answer["decoder_attention"]) +
                         maps_sent(answer["cross_attention"]);
    CHECK(sent > 2);
    CHECK(sent < (4 + 3 + 3) * 8);
    // One layer and one head fit: no 413 (layer 3: the encoder's alone, the decoder has 3 layers).
    const json one = translate_forward_view(loaded, {{"source", std::string(400, 'a')}, {"target", std::string(400, 'b')},
                                                     {"layers", {3}}, {"heads", {0}}});
    CHECK(maps_sent(one["encoder_attention"]) == 1);
    CHECK(maps_sent(one["decoder_attention"]) + maps_sent(one["cross_attention"]) == 0);
    CHECK(one["truncated"] == false);
}

TEST_CASE("bert forward view: full maps, counted whole by the response bound") {
    const std::string prompt(250, 'a');
    const json request = {{"prompt", prompt}, {"include", {"attention"}}, {"fit", true}};
    const LoadedCheckpoint bert = gpt_of("bert", 256), causal = gpt_of("gpt", 256);
    const json b = forward_view(bert, request), g = forward_view(causal, request);
    CHECK(b["predicts"] == "token");
    CHECK(g["predicts"] == "next");
    // A full [T, T] map takes about twice the bytes of a causal one: fewer of bert's fit.
    const int64_t bert_maps = maps_sent(b["attention"]), gpt_maps = maps_sent(g["attention"]);
    CHECK(bert_maps > 0);
    CHECK(bert_maps < gpt_maps);
    CHECK(b.dump().size() <= kMaxResponseBytes);
    const json& first = b["attention"][0][0];
    REQUIRE(first.size() == 250);
    CHECK(first[0][249].get<double>() > 0.0);  // above the diagonal: bidirectional
    CHECK(g["attention"][0][0][0][249].get<double>() == 0.0);
}
