// GPT-2's pre-split of text into words, numbers, punctuation runs and whitespace, so that BPE merges
// never cross those boundaries. GPT-2 uses the regex
//
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//
// This is a hand-written scanner for it over bytes, with one approximation (no Unicode tables):
//   letter     = ASCII A-Z a-z, and every byte >= 0x80 (so any non-ASCII character, including
//                non-ASCII punctuation or spaces such as U+00A0, counts as part of a word)
//   number     = ASCII 0-9
//   whitespace = ASCII space, \t \n \v \f \r
// It is exactly Python's re.findall of that regex on bytes with \p{L} -> [A-Za-z\x80-\xff] and
// \p{N} -> [0-9] (tests/data/test_pretokenize.cpp checks this against Python).
#pragma once

#include <string_view>

namespace gpt {

// Calls on_word(std::string_view) for each piece in order; the pieces concatenate to `text`.
template <typename F>
void pretokenize(std::string_view text, F&& on_word);

// Length of the piece that starts at text[pos] (pos < text.size()).
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
