// Byte-level BPE (GPT-2's scheme): ids 0..255 are the bytes, id 256 + k is merge k (the
// concatenation of its two parts), special tokens follow the merges. Any byte string encodes, and
// decode(encode(s)) == s exactly.
//
// Encoding: pre-split the text (data/pretokenize.h), then within each piece repeatedly merge the
// adjacent pair of lowest rank, all its occurrences left to right, until no pair has a rank — what
// GPT-2's bpe() does, here with a heap over (rank, position) so a long piece costs O(n log n).
#pragma once

#include <cstdint>
#include <unordered_map>

#include "data/tokenizer.h"

namespace gpt {

struct BpeMerge {
    int32_t left = 0, right = 0;
};

class BpeTokenizer final : public Tokenizer {
public:
    static constexpr int32_t kByteTokens = 256;

    // Each merge's parts must be ids that exist before it (< 256 + its rank). Specials are appended.
    static std::unique_ptr<BpeTokenizer> from_merges(const std::vector<BpeMerge>& merges,
                                                     const std::vector<std::string>& special_tokens);
    static std::unique_ptr<BpeTokenizer> from_state(const TokenizerState& state);

    std::string type() const override { return "bpe"; }
    TokenizerState state() const override;
    const std::vector<BpeMerge>& merges() const { return merges_; }

    // The ids of one pre-split piece, appended to out.
    void encode_piece(std::string_view piece, std::vector<int32_t>& out) const;

protected:
    void encode_ordinary(std::string_view text, const EncodeOptions& options,
                         std::vector<int32_t>& out) const override;

private:
    BpeTokenizer() = default;
    static uint64_t pair_key(int32_t left, int32_t right) {
        return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
    }
    int32_t rank_of(int32_t left, int32_t right) const {
        const auto found = ranks_.find(pair_key(left, right));
        return found == ranks_.end() ? -1 : found->second;
    }

    std::vector<BpeMerge> merges_;
    std::unordered_map<uint64_t, int32_t> ranks_;  // pair_key(left, right) -> rank
};

}  // namespace gpt
