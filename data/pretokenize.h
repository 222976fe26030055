// GPT-2's pre-split of text into words, numbers, punctuation runs and whitespace, so that BPE merges
// never cross those boundaries. GPT-2 (OpenAI's encoder.py, Python `regex` module) uses
//
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//
// This runs exactly that pattern with PCRE2 in UTF + UCP mode (JIT-compiled when PCRE2 has a JIT),
// with Unicode letter/number classes. `\s` is spelled out as the Unicode White_Space property
// ([\t-\r\x{85}\p{Z}]), which is what Python's `regex` module means by `\s` (PCRE2's own UCP `\s`
// leaves out U+0085; JavaScript's includes U+FEFF and leaves out U+0085).
//
// Invalid UTF-8: GPT-2 is byte-level, so every byte string must split and round-trip. Bytes that are
// not part of a valid UTF-8 character never match the pattern (PCRE2_MATCH_INVALID_UTF); each maximal
// run of them between two matches becomes a piece of its own. Valid text around them splits as usual.
#pragma once

#include <cstddef>
#include <string_view>

namespace gpt {

// Calls on_word(std::string_view) for each piece in order; the pieces concatenate to `text`.
template <typename F>
void pretokenize(std::string_view text, F&& on_word);

// Length of the piece that starts at text[pos] (pos < text.size(), pos at a piece boundary).
size_t pretoken_length(std::string_view text, size_t pos);

template <typename F>
void pretokenize(std::string_view text, F&& on_word) {
    size_t pos = 0;
    while (pos < text.size()) {
        const size_t length = pretoken_length(text, pos);
        on_word(text.substr(pos, length));
        pos += length;
    }
}

}  // namespace gpt
