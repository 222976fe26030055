// Text from files and requests that the program does not trust, in error messages and before parsing.
//   excerpt(text)       the text quoted for a one-line message: at most `max_chars` bytes of it, with
//                       control bytes, NUL and bytes >= 0x7f escaped (\n, \t, \xNN), and "… (N bytes)"
//                       when it was cut. An error line never carries more than ~4·max_chars + 30 bytes
//                       of what a file or a client sent, and never a NUL that would cut it.
//   bounded(text)       the text itself when it is short printable ASCII, else excerpt(text)
//   json_nesting_depth  the deepest nesting of [ and { in JSON text (strings skipped), found in one
//                       pass without recursion: checked before a parse, so that a value nested a million
//                       levels deep is refused before anything walks it recursively (nlohmann's dump(),
//                       copies and comparisons recurse).
#pragma once

#include <cstddef>
#include <cstdio>
#include <string>
#include <string_view>

namespace gpt {

inline std::string excerpt(std::string_view text, size_t max_chars = 80) {
    std::string out = "'";
    const size_t shown = text.size() < max_chars ? text.size() : max_chars;
    for (size_t i = 0; i < shown; ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c == '\n') {
            out += "\\n";
        } else if (c == '\t') {
            out += "\\t";
        } else if (c == '\\') {
            out += "\\\\";
        } else if (c < 0x20 || c >= 0x7f) {
            char buffer[8];
            std::snprintf(buffer, sizeof buffer, "\\x%02x", c);
            out += buffer;
        } else {
            out += static_cast<char>(c);
        }
    }
    out += "'";
    if (shown < text.size()) out += "… (" + std::to_string(text.size()) + " bytes)";
    return out;
}

// The text as it is when it is short printable ASCII (a tensor name, a dtype), else excerpt(text).
inline std::string bounded(std::string_view text, size_t max_chars = 80) {
    bool plain = text.size() <= max_chars && !text.empty();
    for (const char c : text) plain = plain && c >= 0x20 && c < 0x7f;
    return plain ? std::string(text) : excerpt(text, max_chars);
}

inline size_t json_nesting_depth(std::string_view text) {
    size_t depth = 0, deepest = 0;
    bool in_string = false;
    for (size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (in_string) {
            if (c == '\\') ++i;  // the escaped character cannot end the string
            else if (c == '"') in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > deepest) deepest = depth;
        } else if ((c == ']' || c == '}') && depth > 0) {
            --depth;
        }
    }
    return deepest;
}

}  // namespace gpt
