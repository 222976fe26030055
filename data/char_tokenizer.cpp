#include "data/char_tokenizer.h"

#include <algorithm>
#include <set>
#include <stdexcept>

#include "data/utf8.h"

namespace gpt {

void CharTokenizer::add_character(char32_t code_point) {
    const int32_t id = vocab_size();
    if (code_point < 128) ascii_ids_[code_point] = id;
    ids_.emplace(code_point, id);
    append_token(utf8::encode(code_point));
}

std::unique_ptr<CharTokenizer> CharTokenizer::train(std::string_view text, const CharTrainOptions& options) {
    std::vector<int32_t> placeholder_ids(options.special_tokens.size(), 0);
    std::set<char32_t> characters;
    const auto on_invalid = options.replace_invalid_utf8 ? utf8::OnInvalid::Replace : utf8::OnInvalid::Throw;
    size_t piece_offset = 0;
    for (const TextPiece& piece : split_special(text, options.special_tokens, placeholder_ids)) {
        if (piece.special_id < 0) {
            const size_t bad = on_invalid == utf8::OnInvalid::Throw ? utf8::find_invalid(piece.text)
                                                                    : std::string_view::npos;
            if (bad != std::string_view::npos)
                throw std::invalid_argument("CharTokenizer::train: " + utf8::invalid_message(text, piece_offset + bad));
            for (char32_t cp : utf8::decode(piece.text, on_invalid)) characters.insert(cp);
        }
        piece_offset += piece.text.size();
    }
    if (characters.empty()) throw std::invalid_argument("CharTokenizer::train: the training text has no characters");

    std::unique_ptr<CharTokenizer> tokenizer(new CharTokenizer());
    std::fill(std::begin(tokenizer->ascii_ids_), std::end(tokenizer->ascii_ids_), -1);
    for (char32_t cp : characters) tokenizer->add_character(cp);
    for (const std::string& special : options.special_tokens) {
        if (special.empty()) throw std::invalid_argument("CharTokenizer::train: empty special token");
        if (std::find(tokenizer->special_bytes_.begin(), tokenizer->special_bytes_.end(), special) !=
            tokenizer->special_bytes_.end())
            throw std::invalid_argument("CharTokenizer::train: special token '" + special + "' given twice");
        tokenizer->special_ids_.push_back(tokenizer->vocab_size());
        tokenizer->special_bytes_.push_back(special);
        tokenizer->append_token(special);
    }
    return tokenizer;
}

std::unique_ptr<CharTokenizer> CharTokenizer::from_state(const TokenizerState& state) {
    validate_common(state);
    const auto fail = [](const std::string& what) { throw std::invalid_argument("TokenizerState (char): " + what); };
    if (state.type != "char") fail("type is '" + state.type + "'");
    if (!state.merges.empty()) fail("a character tokenizer has no merges, got " + std::to_string(state.merges.size() / 2));
    const int32_t V = state.vocab_size();
    const size_t S = state.special_ids.size();
    // Characters come first in code point order, then the specials in the order listed.
    for (size_t s = 0; s < S; ++s)
        if (state.special_ids[s] != V - int32_t(S) + int32_t(s))
            fail("special ids must be the last " + std::to_string(S) + " ids in order, got " +
                 std::to_string(state.special_ids[s]) + " at index " + std::to_string(s));

    std::unique_ptr<CharTokenizer> tokenizer(new CharTokenizer());
    std::fill(std::begin(tokenizer->ascii_ids_), std::end(tokenizer->ascii_ids_), -1);
    const std::string_view all(reinterpret_cast<const char*>(state.token_bytes.data()), state.token_bytes.size());
    char32_t previous = 0;
    for (int32_t id = 0; id < V; ++id) {
        const int64_t begin = state.token_offsets[size_t(id)], end = state.token_offsets[size_t(id) + 1];
        const std::string_view bytes = all.substr(size_t(begin), size_t(end - begin));
        if (id >= V - int32_t(S)) {
            tokenizer->special_ids_.push_back(id);
            tokenizer->special_bytes_.emplace_back(bytes);
            tokenizer->append_token(bytes);
            continue;
        }
        char32_t cp = 0;
        if (utf8::sequence_length(bytes, 0, cp) != int(bytes.size()))
            fail("token " + std::to_string(id) + " is not exactly one UTF-8 character");
        if (id > 0 && cp <= previous)
            fail("characters are not in increasing code point order at token " + std::to_string(id));
        previous = cp;
        tokenizer->add_character(cp);
    }
    return tokenizer;
}

static std::string describe(char32_t cp) {
    // Printable characters are quoted; controls and whitespace other than space show only as U+XXXX.
    if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0)) return utf8::code_point_name(cp);
    return "'" + utf8::encode(cp) + "' (" + utf8::code_point_name(cp) + ")";
}

void CharTokenizer::encode_ordinary(std::string_view text, const EncodeOptions& options,
                                    std::vector<int32_t>& out) const {
    size_t pos = 0;
    while (pos < text.size()) {
        const uint8_t byte = static_cast<uint8_t>(text[pos]);
        if (byte < 128 && ascii_ids_[byte] >= 0) {
            out.push_back(ascii_ids_[byte]);
            ++pos;
            continue;
        }
        char32_t cp = 0;
        int length = utf8::sequence_length(text, pos, cp);
        if (length == 0) {
            if (!options.replace_invalid_utf8)
                throw std::invalid_argument("CharTokenizer::encode: " + utf8::invalid_message(text, pos));
            cp = utf8::kReplacement;
            length = static_cast<int>(utf8::invalid_length(text, pos));
        }
        const auto found = ids_.find(cp);
        if (found == ids_.end())
            throw std::invalid_argument("CharTokenizer::encode: character " + describe(cp) + " at byte offset " +
                                        std::to_string(pos) + " is not in the tokenizer's vocabulary");
        out.push_back(found->second);
        pos += size_t(length);
    }
}

}  // namespace gpt
