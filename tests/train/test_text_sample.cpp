// The evaluation sample kept in metrics.jsonl (train/text_sample.h): valid UTF-8 whatever the tokens'
// bytes, and drawn from a stream of its own (the same text for the same weights, seed and step).
#include <doctest/doctest.h>

#include "nn/init.h"
#include "train/text_sample.h"
#include "data/char_tokenizer.h"

using namespace gpt;

TEST_CASE("valid_utf8 keeps well-formed sequences and replaces each maximal invalid subpart with U+FFFD") {
    const std::string fffd = "\xEF\xBF\xBD";
    CHECK(valid_utf8("plain ascii\n") == "plain ascii\n");
    CHECK(valid_utf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80") == "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
    CHECK(valid_utf8("\xE2\x82") == fffd);                          // cut mid-character (a byte-level token)
    CHECK(valid_utf8("a\xFF" "b") == "a" + fffd + "b");              // never a lead byte
    CHECK(valid_utf8("\xC0\xAF") == fffd + fffd);                   // overlong '/'
    CHECK(valid_utf8("\xED\xA0\x80") == fffd + fffd + fffd);        // a UTF-16 surrogate
    CHECK(valid_utf8("\xF4\x90\x80\x80") == fffd + fffd + fffd + fffd);  // above U+10FFFF
}

TEST_CASE("evaluation_sample: the same text for the same weights, seed and step; its own stream") {
    const auto tokenizer = CharTokenizer::train("the quick brown fox jumps over the lazy dog\n");
    GPTConfig c;
    c.vocab_size = tokenizer->vocab_size();
    c.block_size = 32;
    c.n_layer = 1;
    c.n_head = 2;
    c.n_embd = 16;
    GPT model(c);
    Generator init(5);
    init_gpt2(model, init);
    for (auto& [name, tensor] : model.named_parameters())  // peaky outputs, so the draws matter
        if (name.find("ln_") == std::string::npos)
            for (int64_t i = 0; i < tensor.numel(); ++i) tensor.data()[i] *= 15.0f;
    model.train();
    const std::string a = evaluation_sample(model, *tokenizer, 40, 7, 100);
    CHECK(model.is_training());  // left in train mode, as training expects
    CHECK(a.size() == 40);       // char tokens: one byte each
    CHECK(evaluation_sample(model, *tokenizer, 40, 7, 100) == a);
    CHECK(evaluation_sample(model, *tokenizer, 40, 7, 200) != a);  // another step, another draw
    CHECK(evaluation_sample(model, *tokenizer, 40, 8, 100) != a);  // another seed
}
