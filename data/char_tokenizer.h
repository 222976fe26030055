// Character tokenizer: one token per Unicode code point seen in the training text, ids in code point
// order, then any special tokens (e.g. <|endoftext|>). Token bytes are each character's UTF-8.
#pragma once

#include <string_view>
#include <unordered_map>

#include "data/tokenizer.h"

namespace gpt {

struct CharTrainOptions {
    // Added after the characters; their text is cut out of the training text first, so e.g. '|' only
    // enters the vocabulary if it occurs outside "<|endoftext|>".
    std::vector<std::string> special_tokens;
    bool replace_invalid_utf8 = false;  // else invalid UTF-8 in the training text is an error
};

class CharTokenizer final : public Tokenizer {
public:
    static std::unique_ptr<CharTokenizer> train(std::string_view text, const CharTrainOptions& options = {});
    static std::unique_ptr<CharTokenizer> from_state(const TokenizerState& state);

    std::string type() const override { return "char"; }
    TokenizerState state() const override { return table_state("char"); }

protected:
    // Throws std::invalid_argument for a character outside the vocabulary:
    // "character 'ß' (U+00DF) at byte offset 12 is not in the tokenizer's vocabulary".
    void encode_ordinary(std::string_view text, const EncodeOptions& options,
                         std::vector<int32_t>& out) const override;

private:
    CharTokenizer() = default;
    void add_character(char32_t code_point);

    int32_t ascii_ids_[128];  // -1 when absent: the common case without a hash lookup
    std::unordered_map<char32_t, int32_t> ids_;
};

}  // namespace gpt
