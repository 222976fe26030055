// printable_token: how `gpt sample --show_tokens` and gpt serve show a token's bytes.
#include <doctest/doctest.h>

#include <string>

#include "data/token_display.h"

using gpt::printable_token;

TEST_CASE("printable_token keeps UTF-8 characters and escapes control bytes and broken sequences") {
    CHECK(printable_token("hello") == "hello");
    CHECK(printable_token("a\nb\tc") == "a\\nb\\tc");
    CHECK(printable_token("caf\xC3\xA9") == "caf\xC3\xA9");              // é kept whole
    CHECK(printable_token("\xE2\x82") == "\\xe2\\x82");                  // two bytes of a three-byte character
    CHECK(printable_token(std::string("\0\x1b", 2)) == "\\x00\\x1b");  // NUL and ESC
    CHECK(printable_token("it's \\") == "it's \\");
    CHECK(printable_token("it's \\", true) == "it\\'s \\\\");  // inside single quotes
}
