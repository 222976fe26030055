// UTF-8 <-> Unicode code points (RFC 3629): the character tokenizer's view of text.
//
// Strict decoding: overlong forms, UTF-16 surrogates (U+D800..U+DFFF), code points above U+10FFFF,
// stray continuation bytes and truncated sequences are invalid. Invalid input is an error that names
// its byte offset, or, when asked for explicitly, becomes U+FFFD (one per maximal invalid subpart, as
// the Unicode standard and the WHATWG encoder recommend). It is never dropped silently.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace gpt::utf8 {

inline constexpr char32_t kReplacement = 0xFFFD;

enum class OnInvalid { Throw, Replace };

// Length in bytes of the valid sequence starting at text[pos], or 0 when the bytes there are not a
// complete valid sequence. `code_point` receives the decoded value when valid.
int sequence_length(std::string_view text, size_t pos, char32_t& code_point);

// Bytes covered by one U+FFFD when the sequence at text[pos] is invalid: its maximal invalid subpart
// (the lead byte plus the continuation bytes still acceptable when it broke off; at least 1).
size_t invalid_length(std::string_view text, size_t pos);

// Offset of the first invalid byte, or std::string_view::npos when text is valid UTF-8.
size_t find_invalid(std::string_view text);

// "invalid UTF-8 at byte offset 17 (byte 0xff)" for text[offset].
std::string invalid_message(std::string_view text, size_t offset);

// Code points of `text`. With OnInvalid::Throw an invalid byte raises std::invalid_argument:
// "invalid UTF-8 at byte offset 17 (byte 0xff)".
std::vector<char32_t> decode(std::string_view text, OnInvalid on_invalid = OnInvalid::Throw);

// Appends the 1–4 byte encoding of `code_point`; throws for surrogates and values above U+10FFFF.
void append(std::string& out, char32_t code_point);
std::string encode(char32_t code_point);
std::string encode(const std::vector<char32_t>& code_points);

// "U+00DF", at least four hex digits.
std::string code_point_name(char32_t code_point);

}  // namespace gpt::utf8
