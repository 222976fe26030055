// GPT-2's tokenizer, exactly: OpenAI's encoder.json + vocab.bpe (or Hugging Face's vocab.json +
// merges.txt, the same content under other names) loaded as a Tokenizer.
//
// Layout (the files' own): ids 0..255 are the 256 single bytes in GPT-2's order (the order of its
// bytes_to_unicode table: '!'..'~', '¡'..'¬', '®'..'ÿ', then the other bytes), id 256 + k is merge k
// of vocab.bpe (the concatenation of its two parts), and <|endoftext|> = 50256 follows the merges.
// In the files every token is written with bytes_to_unicode (byte 0x20 ' ' is 'Ġ', '\n' is 'Ċ', ...);
// here, as for every Tokenizer, tokens are their raw bytes.
//
// Encoding: GPT-2's pre-split (data/pretokenize.h, PCRE2), then per piece the merge of lowest rank,
// all its occurrences left to right, until none applies — GPT-2's bpe(). Internally this is the
// project's byte-level BPE (data/bpe_tokenizer.h, where byte b is id b) with ids 0..255 renumbered.
// Loading checks that merge k's bytes are token 256 + k, so no two merges make the same token and
// that BPE's rank-ordered heap gives GPT-2's result.
//
// Invalid UTF-8: bytes that are not part of a valid UTF-8 character form pre-split pieces of their
// own and encode to byte-level tokens, so any byte string round-trips (decode(encode(s)) == s). GPT-2
// itself only ever sees valid text (Python str; the JavaScript port replaces invalid input with
// U+FFFD first), so on invalid bytes there is no reference to agree with.
//
// Stored in a checkpoint's /tokenizer as type "gpt2": token_bytes/token_offsets in id order, merges
// [M, 2] as the (left, right) ids in rank order, special_ids [50256].
#pragma once

#include <filesystem>
#include <memory>

#include "data/bpe_tokenizer.h"
#include "data/tokenizer.h"

namespace gpt {

class Gpt2Tokenizer final : public Tokenizer {
public:
    // Reads dir/encoder.json + dir/vocab.bpe, else dir/vocab.json + dir/merges.txt. Errors
    // (std::runtime_error) name the file and, for a bad entry, the token or line.
    static std::unique_ptr<Gpt2Tokenizer> from_files(const std::filesystem::path& dir);
    // True when dir holds one of the two pairs of files.
    static bool has_files(const std::filesystem::path& dir);
    // From the parsed contents: vocabulary (token text in bytes_to_unicode form -> id) and the merge
    // lines (each "left right", header and blank lines already removed). `source` names the input in errors.
    static std::unique_ptr<Gpt2Tokenizer> from_vocabulary(const std::vector<std::pair<std::string, int32_t>>& vocabulary,
                                                          const std::vector<std::string>& merge_lines,
                                                          const std::string& source);
    static std::unique_ptr<Gpt2Tokenizer> from_state(const TokenizerState& state);

    std::string type() const override { return "gpt2"; }
    TokenizerState state() const override;

    // Writes the vocabulary and merges: "openai" -> encoder.json + vocab.bpe, "hf" -> vocab.json +
    // merges.txt. from_files() of the result gives this tokenizer back.
    void write_files(const std::filesystem::path& dir, const std::string& naming) const;

    // GPT-2's bytes_to_unicode: the code point that stands for byte b in the files.
    static char32_t byte_to_unicode(uint8_t b);

protected:
    void encode_ordinary(std::string_view text, const EncodeOptions& options, std::vector<int32_t>& out) const override;

private:
    Gpt2Tokenizer() = default;
    static std::unique_ptr<Gpt2Tokenizer> build(const std::vector<std::string>& tokens, const std::vector<BpeMerge>& merges,
                                                const std::string& source);
    std::string file_text(int32_t id) const;  // token id in bytes_to_unicode form

    std::unique_ptr<BpeTokenizer> canonical_;  // byte b is id b; merge k is 256 + k
    int32_t byte_id_[256] = {};                // GPT-2 id of byte b
    int32_t merge_count_ = 0;
};

}  // namespace gpt
