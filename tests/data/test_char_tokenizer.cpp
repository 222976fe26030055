#include <doctest/doctest.h>

#include <stdexcept>

#include "data/char_tokenizer.h"
#include "data/utf8.h"

using namespace gpt;

// Korean (precomposed Hangul and a conjoining jamo sequence), emoji incl. a ZWJ sequence and a skin
// tone modifier, combining marks (e + U+0301, a + U+0308 + U+0323), ASCII.
static const std::string kMultilingual =
    "안녕하세요, 세계! \xE1\x84\x92\xE1\x85\xA1\xE1\x86\xAB "
    "😀 👩‍💻 👍🏽 "
    "e\xCC\x81 a\xCC\x88\xCC\xA3 café\n";

TEST_CASE("char: multilingual round trip, one id per code point, vocabulary sorted") {
    const auto tokenizer = CharTokenizer::train(kMultilingual);
    const std::vector<char32_t> code_points = utf8::decode(kMultilingual);
    const std::vector<int32_t> ids = tokenizer->encode(kMultilingual);
    CHECK(ids.size() == code_points.size());
    CHECK(tokenizer->decode(ids) == kMultilingual);
    for (size_t i = 0; i < ids.size(); ++i) CHECK(tokenizer->token_bytes(ids[i]) == utf8::encode(code_points[i]));
    for (int32_t id = 1; id < tokenizer->vocab_size(); ++id)
        CHECK(utf8::decode(tokenizer->token_bytes(id - 1))[0] < utf8::decode(tokenizer->token_bytes(id))[0]);
    CHECK(tokenizer->type() == "char");
    CHECK(!tokenizer->end_of_text_id().has_value());
}

TEST_CASE("char: unknown characters and invalid UTF-8 are errors that say where") {
    const auto tokenizer = CharTokenizer::train("hello world");
    CHECK_THROWS_WITH_AS(tokenizer->encode("hello world ß"),
                         "CharTokenizer::encode: character 'ß' (U+00DF) at byte offset 12 is not in the tokenizer's vocabulary",
                         std::invalid_argument);
    CHECK_THROWS_WITH(tokenizer->encode("hell\no"), doctest::Contains("U+000A"));
    CHECK_THROWS_WITH(tokenizer->encode("he\xFFllo"), doctest::Contains("invalid UTF-8 at byte offset 2"));
    CHECK_THROWS_WITH(CharTokenizer::train("ok\xC3("), doctest::Contains("invalid UTF-8 at byte offset 2"));
    CHECK_THROWS_AS(tokenizer->decode(std::vector<int32_t>{0, tokenizer->vocab_size()}), std::out_of_range);
}

TEST_CASE("char: invalid UTF-8 becomes U+FFFD only when asked") {
    CharTrainOptions options;
    options.replace_invalid_utf8 = true;
    const auto tokenizer = CharTokenizer::train("ab\xFF", options);
    CHECK(tokenizer->vocab_size() == 3);
    EncodeOptions encode;
    encode.replace_invalid_utf8 = true;
    const std::vector<int32_t> ids = tokenizer->encode("a\xE2\x82" "b", encode);
    CHECK(tokenizer->decode(ids) == "a\xEF\xBF\xBD" "b");
    CHECK_THROWS(tokenizer->encode("a\xE2\x82" "b"));
}

TEST_CASE("char: special tokens only from explicit allow_special") {
    CharTrainOptions options;
    options.special_tokens = {"<|endoftext|>"};
    const auto tokenizer = CharTokenizer::train("ab<|endoftext|>ba", options);
    REQUIRE(tokenizer->end_of_text_id().has_value());
    CHECK(*tokenizer->end_of_text_id() == tokenizer->vocab_size() - 1);
    CHECK(tokenizer->vocab_size() == 3);  // a, b, <|endoftext|>: '<' '|' were cut out with the special
    EncodeOptions allow;
    allow.allow_special = true;
    const std::vector<int32_t> ids = tokenizer->encode("a<|endoftext|>b", allow);
    CHECK(ids == std::vector<int32_t>{0, 2, 1});
    CHECK(tokenizer->decode(ids) == "a<|endoftext|>b");
    // Without the option the literal is ordinary text, here made of characters outside the vocabulary.
    CHECK_THROWS_WITH(tokenizer->encode("a<|endoftext|>b"), doctest::Contains("'<' (U+003C)"));
}

TEST_CASE("char: state round trip and validation") {
    CharTrainOptions options;
    options.special_tokens = {"<|endoftext|>"};
    const auto tokenizer = CharTokenizer::train(kMultilingual, options);
    const TokenizerState state = tokenizer->state();
    CHECK(state.type == "char");
    CHECK(state.token_offsets.size() == size_t(tokenizer->vocab_size()) + 1);
    CHECK(state.merges.empty());
    const auto rebuilt = Tokenizer::from_state(state);
    CHECK(rebuilt->type() == "char");
    CHECK(rebuilt->vocab_size() == tokenizer->vocab_size());
    CHECK(rebuilt->encode(kMultilingual) == tokenizer->encode(kMultilingual));
    CHECK(rebuilt->end_of_text_id() == tokenizer->end_of_text_id());

    TokenizerState unsorted = state;
    std::swap(unsorted.token_bytes[0], unsorted.token_bytes[1]);  // first two tokens are 1-byte ASCII
    CHECK_THROWS_WITH(Tokenizer::from_state(unsorted), doctest::Contains("increasing code point order"));
    TokenizerState bad_offsets = state;
    bad_offsets.token_offsets.back() += 1;
    CHECK_THROWS_WITH(Tokenizer::from_state(bad_offsets), doctest::Contains("token_offsets ends at"));
    TokenizerState bad_type = state;
    bad_type.type = "wordpiece";
    CHECK_THROWS_WITH(Tokenizer::from_state(bad_type), doctest::Contains("'wordpiece'"));
    TokenizerState bad_special = state;
    bad_special.special_ids = {0};
    CHECK_THROWS_WITH(Tokenizer::from_state(bad_special), doctest::Contains("special ids must be the last"));
}
