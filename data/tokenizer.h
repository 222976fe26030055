// The Tokenizer interface shared by the character and byte-level BPE tokenizers, and TokenizerState:
// the plain data that saves and rebuilds one, mapping 1:1 onto the checkpoint's /tokenizer group:
//
//   attribute type     "char" | "bpe" | "gpt2"
//   token_bytes        uint8  [sum of token lengths]  every token's bytes, concatenated in id order
//   token_offsets      int64  [V + 1]                 token i is token_bytes[offsets[i] : offsets[i+1]]
//   merges             int32  [M, 2]                  bpe/gpt2 only: the merged id pairs in rank order
//   special_ids        int32  [S]                     ids of special tokens such as <|endoftext|>
//
// Bytes, not strings, because a BPE token may be byte 0 or half a UTF-8 character.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace gpt {

inline constexpr std::string_view kEndOfText = "<|endoftext|>";

struct TokenizerState {
    std::string type;                   // "char" | "bpe" | "gpt2"
    std::vector<uint8_t> token_bytes;
    std::vector<int64_t> token_offsets;  // [V + 1], starts at 0, non-decreasing, ends at token_bytes.size()
    std::vector<int32_t> merges;         // [M * 2]: (left, right) of merge k at 2k, 2k+1; k is its rank
    std::vector<int32_t> special_ids;    // [S]

    int32_t vocab_size() const { return token_offsets.empty() ? 0 : int32_t(token_offsets.size() - 1); }
};

struct EncodeOptions {
    // When true, the literal text of a special token (e.g. "<|endoftext|>") becomes that token's id;
    // when false (the default) it is ordinary text, so a corpus can never inject special tokens.
    bool allow_special = false;
    // Character tokenizer only: map invalid UTF-8 to U+FFFD instead of throwing (U+FFFD must then be
    // in the vocabulary). Byte-level BPE encodes any bytes.
    bool replace_invalid_utf8 = false;
};

// Both tokenizers keep the same id -> bytes table (the state's token_bytes/token_offsets), so decoding
// and the table queries live here; the subclasses differ in how text becomes ids.
class Tokenizer {
public:
    virtual ~Tokenizer() = default;

    std::vector<int32_t> encode(std::string_view text, const EncodeOptions& options = {}) const;
    // Concatenated token bytes; throws std::out_of_range naming the first id outside [0, V).
    std::string decode(std::span<const int32_t> ids) const;
    std::string decode(const std::vector<int32_t>& ids) const { return decode(std::span<const int32_t>(ids)); }

    std::string token_bytes(int32_t id) const;
    int32_t vocab_size() const { return static_cast<int32_t>(offsets_.size()) - 1; }
    const std::vector<int32_t>& special_ids() const { return special_ids_; }
    std::optional<int32_t> end_of_text_id() const;  // the special token whose bytes are "<|endoftext|>"

    virtual std::string type() const = 0;  // "char" | "bpe" | "gpt2" (data/gpt2_tokenizer.h)
    virtual TokenizerState state() const = 0;
    // Validates the state (std::invalid_argument naming the field and values) and rebuilds the
    // tokenizer it came from: same ids, same encodings.
    static std::unique_ptr<Tokenizer> from_state(const TokenizerState& state);

protected:
    // Encodes text that holds no special tokens (they were split out already when allowed).
    virtual void encode_ordinary(std::string_view text, const EncodeOptions& options,
                                 std::vector<int32_t>& out) const = 0;

    void append_token(std::string_view bytes);
    std::string_view token_view(int32_t id) const {
        return {bytes_.data() + offsets_[size_t(id)], size_t(offsets_[size_t(id) + 1] - offsets_[size_t(id)])};
    }
    TokenizerState table_state(std::string type_name) const;

    std::string bytes_;                  // all token bytes, in id order
    std::vector<int64_t> offsets_{0};    // [V + 1]
    std::vector<int32_t> special_ids_;
    std::vector<std::string> special_bytes_;  // parallel to special_ids_
};

// `tokenizer` with `names` appended as special tokens (new ids V, V+1, … in the order given), every
// ordinary id and encoding unchanged. A name the tokenizer already has as a special token is not added
// again, so applying it twice is the same as once (a run's tokenizer read back from its checkpoint).
// Works for every tokenizer type: each keeps its special tokens as its last ids (TokenizerState).
std::unique_ptr<Tokenizer> with_special_tokens(const Tokenizer& tokenizer, const std::vector<std::string>& names);

// One piece of text between special tokens: either ordinary text or the id of a special token.
struct TextPiece {
    std::string_view text;
    int32_t special_id = -1;  // >= 0 for a special token
};

// Splits text at every occurrence of the given special tokens (earliest match first, longest on a
// tie); ordinary pieces keep their order and may be empty only when text is empty.
std::vector<TextPiece> split_special(std::string_view text, const std::vector<std::string>& special_bytes,
                                     const std::vector<int32_t>& special_ids);

// Checks the parts of a state both tokenizer types share: offsets shape and range, special ids in
// range and distinct. Throws std::invalid_argument("TokenizerState: ...").
void validate_common(const TokenizerState& state);

}  // namespace gpt
