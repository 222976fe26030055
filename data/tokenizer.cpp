#include "data/tokenizer.h"

#include <set>
#include <stdexcept>

#include "data/bpe_tokenizer.h"
#include "data/char_tokenizer.h"
#include "data/gpt2_tokenizer.h"

namespace gpt {

std::vector<int32_t> Tokenizer::encode(std::string_view text, const EncodeOptions& options) const {
    std::vector<int32_t> ids;
    ids.reserve(text.size() / 3 + 1);
    if (!options.allow_special || special_ids_.empty()) {
        encode_ordinary(text, options, ids);
        return ids;
    }
    for (const TextPiece& piece : split_special(text, special_bytes_, special_ids_)) {
        if (piece.special_id >= 0) ids.push_back(piece.special_id);
        else encode_ordinary(piece.text, options, ids);
    }
    return ids;
}

std::string Tokenizer::decode(std::span<const int32_t> ids) const {
    std::string out;
    out.reserve(ids.size() * 4);
    const int32_t V = vocab_size();
    for (size_t i = 0; i < ids.size(); ++i) {
        if (ids[i] < 0 || ids[i] >= V)
            throw std::out_of_range("Tokenizer::decode: id " + std::to_string(ids[i]) + " at position " +
                                    std::to_string(i) + " is outside the vocabulary [0, " + std::to_string(V) + ")");
        out += token_view(ids[i]);
    }
    return out;
}

std::string Tokenizer::token_bytes(int32_t id) const {
    if (id < 0 || id >= vocab_size())
        throw std::out_of_range("Tokenizer::token_bytes: id " + std::to_string(id) + " is outside [0, " +
                                std::to_string(vocab_size()) + ")");
    return std::string(token_view(id));
}

std::optional<int32_t> Tokenizer::end_of_text_id() const {
    for (size_t i = 0; i < special_ids_.size(); ++i)
        if (special_bytes_[i] == kEndOfText) return special_ids_[i];
    return std::nullopt;
}

void Tokenizer::append_token(std::string_view bytes) {
    bytes_ += bytes;
    offsets_.push_back(static_cast<int64_t>(bytes_.size()));
}

TokenizerState Tokenizer::table_state(std::string type_name) const {
    TokenizerState state;
    state.type = std::move(type_name);
    state.token_bytes.assign(bytes_.begin(), bytes_.end());
    state.token_offsets = offsets_;
    state.special_ids = special_ids_;
    return state;
}

std::unique_ptr<Tokenizer> Tokenizer::from_state(const TokenizerState& state) {
    validate_common(state);
    if (state.type == "char") return CharTokenizer::from_state(state);
    if (state.type == "bpe") return BpeTokenizer::from_state(state);
    if (state.type == "gpt2") return Gpt2Tokenizer::from_state(state);
    throw std::invalid_argument("TokenizerState: type '" + state.type + "' is not one of \"char\", \"bpe\", \"gpt2\"");
}

std::unique_ptr<Tokenizer> with_special_tokens(const Tokenizer& tokenizer, const std::vector<std::string>& names) {
    TokenizerState state = tokenizer.state();
    for (const std::string& name : names) {
        if (name.empty()) throw std::invalid_argument("with_special_tokens: empty special token");
        bool present = false;
        for (int32_t id : state.special_ids) {
            const auto begin = state.token_bytes.begin() + state.token_offsets[size_t(id)];
            const auto end = state.token_bytes.begin() + state.token_offsets[size_t(id) + 1];
            present = present || std::string(begin, end) == name;
        }
        if (present) continue;
        state.special_ids.push_back(state.vocab_size());
        state.token_bytes.insert(state.token_bytes.end(), name.begin(), name.end());
        state.token_offsets.push_back(static_cast<int64_t>(state.token_bytes.size()));
    }
    return Tokenizer::from_state(state);
}

void validate_common(const TokenizerState& state) {
    const auto fail = [](const std::string& what) { throw std::invalid_argument("TokenizerState: " + what); };
    const auto& offsets = state.token_offsets;
    if (offsets.size() < 2) fail("token_offsets has " + std::to_string(offsets.size()) + " entries; need V + 1 >= 2");
    if (offsets.size() - 1 > size_t(INT32_MAX)) fail("vocabulary too large for int32 ids");
    if (offsets.front() != 0) fail("token_offsets[0] is " + std::to_string(offsets.front()) + ", not 0");
    if (offsets.back() != static_cast<int64_t>(state.token_bytes.size()))
        fail("token_offsets ends at " + std::to_string(offsets.back()) + " but token_bytes has " +
             std::to_string(state.token_bytes.size()) + " bytes");
    for (size_t i = 1; i < offsets.size(); ++i)
        if (offsets[i] <= offsets[i - 1])
            fail("token " + std::to_string(i - 1) + " is empty or token_offsets decreases at index " +
                 std::to_string(i));
    if (state.merges.size() % 2 != 0) fail("merges has an odd length " + std::to_string(state.merges.size()));
    const int32_t V = state.vocab_size();
    std::set<int32_t> seen;
    for (int32_t id : state.special_ids) {
        if (id < 0 || id >= V) fail("special id " + std::to_string(id) + " is outside [0, " + std::to_string(V) + ")");
        if (!seen.insert(id).second) fail("special id " + std::to_string(id) + " is listed twice");
    }
}

std::vector<TextPiece> split_special(std::string_view text, const std::vector<std::string>& special_bytes,
                                     const std::vector<int32_t>& special_ids) {
    std::vector<TextPiece> pieces;
    size_t start = 0;
    while (start <= text.size()) {
        size_t best_pos = std::string_view::npos, best_len = 0;
        int32_t best_id = -1;
        for (size_t s = 0; s < special_bytes.size(); ++s) {
            const size_t pos = text.find(special_bytes[s], start);
            if (pos == std::string_view::npos) continue;
            if (pos < best_pos || (pos == best_pos && special_bytes[s].size() > best_len)) {
                best_pos = pos;
                best_len = special_bytes[s].size();
                best_id = special_ids[s];
            }
        }
        if (best_pos == std::string_view::npos) {
            if (start < text.size() || pieces.empty()) pieces.push_back({text.substr(start)});
            break;
        }
        if (best_pos > start) pieces.push_back({text.substr(start, best_pos - start)});
        pieces.push_back({text.substr(best_pos, best_len), best_id});
        start = best_pos + best_len;
    }
    return pieces;
}

}  // namespace gpt
