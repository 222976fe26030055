#include <doctest/doctest.h>

#include <stdexcept>

#include "data/utf8.h"

using namespace gpt;

TEST_CASE("utf8: decode and encode round trip across all sequence lengths") {
    const std::vector<char32_t> code_points{U'A', 0x00DF, 0xD55C, 0x1F600, 0x0301, 0x10FFFF, 0x7F, 0x80, 0x7FF, 0x800, 0xFFFF, 0x10000};
    const std::string bytes = utf8::encode(code_points);
    CHECK(bytes.size() == 1 + 2 + 3 + 4 + 2 + 4 + 1 + 2 + 2 + 3 + 3 + 4);
    CHECK(utf8::decode(bytes) == code_points);
    CHECK(utf8::encode(U'\u00DF') == "\xC3\x9F");
    CHECK(utf8::encode(0x1F600) == "\xF0\x9F\x98\x80");
    CHECK(utf8::decode("").empty());
}

TEST_CASE("utf8: invalid input is an error naming the byte offset") {
    CHECK_THROWS_WITH_AS(utf8::decode("abc\xFF"), "invalid UTF-8 at byte offset 3 (byte 0xff)", std::invalid_argument);
    CHECK_THROWS_WITH(utf8::decode("ab\xC3"), doctest::Contains("offset 2"));         // truncated
    CHECK_THROWS_WITH(utf8::decode("\xC0\xAF"), doctest::Contains("offset 0"));       // overlong '/'
    CHECK_THROWS_WITH(utf8::decode("x\xE0\x80\xAF"), doctest::Contains("offset 1"));  // overlong 3-byte
    CHECK_THROWS_WITH(utf8::decode("\xED\xA0\x80"), doctest::Contains("offset 0"));   // surrogate U+D800
    CHECK_THROWS_WITH(utf8::decode("\xF4\x90\x80\x80"), doctest::Contains("offset 0"));  // > U+10FFFF
    CHECK_THROWS_WITH(utf8::decode("a\x80"), doctest::Contains("offset 1"));          // stray continuation
    CHECK(utf8::find_invalid("h\xC3\xA9llo") == std::string_view::npos);
    CHECK(utf8::find_invalid("h\xC3llo") == 1);
    CHECK_THROWS_AS(utf8::encode(char32_t(0xD800)), std::invalid_argument);
    CHECK_THROWS_AS(utf8::encode(char32_t(0x110000)), std::invalid_argument);
}

TEST_CASE("utf8: replacement maps each maximal invalid subpart to one U+FFFD") {
    using V = std::vector<char32_t>;
    const auto replace = [](std::string_view s) { return utf8::decode(s, utf8::OnInvalid::Replace); };
    CHECK(replace("a\xFF" "b") == V{U'a', 0xFFFD, U'b'});
    CHECK(replace("\xE2\x82" "A") == V{0xFFFD, U'A'});       // truncated 3-byte sequence: one U+FFFD
    CHECK(replace("\xC0\xAF") == V{0xFFFD, 0xFFFD});          // C0 is never a lead byte
    CHECK(replace("\xF0\x9F\x98") == V{0xFFFD});              // truncated at the end of input
    CHECK(replace("\xED\xA0\x80") == V{0xFFFD, 0xFFFD, 0xFFFD});  // surrogate: ED then two strays
}
