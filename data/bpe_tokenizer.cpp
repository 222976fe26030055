#include "data/bpe_tokenizer.h"

#include <algorithm>
#include <functional>
#include <queue>
#include <stdexcept>

#include "data/pretokenize.h"

namespace gpt {

std::unique_ptr<BpeTokenizer> BpeTokenizer::from_merges(const std::vector<BpeMerge>& merges,
                                                        const std::vector<std::string>& special_tokens) {
    std::unique_ptr<BpeTokenizer> tokenizer(new BpeTokenizer());
    for (int b = 0; b < kByteTokens; ++b) tokenizer->append_token(std::string(1, static_cast<char>(b)));
    tokenizer->ranks_.reserve(merges.size());
    for (size_t k = 0; k < merges.size(); ++k) {
        const BpeMerge m = merges[k];
        const int32_t next_id = kByteTokens + static_cast<int32_t>(k);
        if (m.left < 0 || m.left >= next_id || m.right < 0 || m.right >= next_id)
            throw std::invalid_argument("BpeTokenizer: merge " + std::to_string(k) + " (" + std::to_string(m.left) +
                                        ", " + std::to_string(m.right) + ") uses an id not below " +
                                        std::to_string(next_id));
        if (!tokenizer->ranks_.emplace(pair_key(m.left, m.right), static_cast<int32_t>(k)).second)
            throw std::invalid_argument("BpeTokenizer: merge " + std::to_string(k) + " (" + std::to_string(m.left) +
                                        ", " + std::to_string(m.right) + ") repeats an earlier merge");
        const std::string bytes = std::string(tokenizer->token_view(m.left)) + std::string(tokenizer->token_view(m.right));
        tokenizer->append_token(bytes);
    }
    tokenizer->merges_ = merges;
    for (const std::string& special : special_tokens) {
        if (special.empty()) throw std::invalid_argument("BpeTokenizer: empty special token");
        if (std::find(tokenizer->special_bytes_.begin(), tokenizer->special_bytes_.end(), special) !=
            tokenizer->special_bytes_.end())
            throw std::invalid_argument("BpeTokenizer: special token '" + special + "' given twice");
        tokenizer->special_ids_.push_back(tokenizer->vocab_size());
        tokenizer->special_bytes_.push_back(special);
        tokenizer->append_token(special);
    }
    return tokenizer;
}

std::unique_ptr<BpeTokenizer> BpeTokenizer::from_state(const TokenizerState& state) {
    validate_common(state);
    const auto fail = [](const std::string& what) { throw std::invalid_argument("TokenizerState (bpe): " + what); };
    if (state.type != "bpe") fail("type is '" + state.type + "'");
    const int32_t V = state.vocab_size();
    const int32_t M = static_cast<int32_t>(state.merges.size() / 2);
    const int32_t S = static_cast<int32_t>(state.special_ids.size());
    if (V != kByteTokens + M + S)
        fail("vocab size " + std::to_string(V) + " != 256 bytes + " + std::to_string(M) + " merges + " +
             std::to_string(S) + " special tokens");
    for (int32_t s = 0; s < S; ++s)
        if (state.special_ids[size_t(s)] != kByteTokens + M + s)
            fail("special ids must follow the merges in order, got " + std::to_string(state.special_ids[size_t(s)]) +
                 " at index " + std::to_string(s));
    std::vector<BpeMerge> merges(static_cast<size_t>(M));
    for (int32_t k = 0; k < M; ++k) merges[size_t(k)] = {state.merges[2 * size_t(k)], state.merges[2 * size_t(k) + 1]};
    std::vector<std::string> specials;
    const auto bytes_of = [&](int32_t id) {
        const int64_t begin = state.token_offsets[size_t(id)], end = state.token_offsets[size_t(id) + 1];
        return std::string(reinterpret_cast<const char*>(state.token_bytes.data()) + begin, size_t(end - begin));
    };
    for (int32_t id : state.special_ids) specials.push_back(bytes_of(id));
    std::unique_ptr<BpeTokenizer> tokenizer;
    try {
        tokenizer = from_merges(merges, specials);
    } catch (const std::invalid_argument& e) {
        fail(e.what());
    }
    // The stored bytes are redundant with the merges; a mismatch means a corrupted or foreign file.
    for (int32_t id = 0; id < V; ++id)
        if (tokenizer->token_view(id) != bytes_of(id))
            fail("token " + std::to_string(id) + "'s bytes differ from what the merges build");
    return tokenizer;
}

TokenizerState BpeTokenizer::state() const {
    TokenizerState state = table_state("bpe");
    state.merges.reserve(merges_.size() * 2);
    for (const BpeMerge& m : merges_) {
        state.merges.push_back(m.left);
        state.merges.push_back(m.right);
    }
    return state;
}

void BpeTokenizer::encode_piece(std::string_view piece, std::vector<int32_t>& out) const {
    const int n = static_cast<int>(piece.size());
    if (n == 1) {
        out.push_back(static_cast<uint8_t>(piece[0]));
        return;
    }
    // A doubly linked list of symbols; next[i] == n marks the end.
    const size_t length = static_cast<size_t>(n);
    std::vector<int32_t> symbol(length), prev(length), next(length);
    for (int i = 0; i < n; ++i) {
        symbol[size_t(i)] = static_cast<uint8_t>(piece[size_t(i)]);
        prev[size_t(i)] = i - 1;
        next[size_t(i)] = i + 1;
    }
    // (rank, position of the left symbol): lowest rank first, leftmost first within a rank. A merge
    // only creates pairs of higher rank (they contain the new id), so every occurrence of rank r is
    // merged, left to right, before any later rank: the same result as GPT-2's pass-per-rank loop.
    using Candidate = std::pair<int32_t, int32_t>;
    std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>> heap;
    const auto push = [&](int32_t left_pos) {
        if (left_pos < 0 || next[size_t(left_pos)] >= n) return;
        const int32_t rank = rank_of(symbol[size_t(left_pos)], symbol[size_t(next[size_t(left_pos)])]);
        if (rank >= 0) heap.emplace(rank, left_pos);
    };
    for (int i = 0; i + 1 < n; ++i) push(i);
    while (!heap.empty()) {
        const auto [rank, i] = heap.top();
        heap.pop();
        const int32_t j = next[size_t(i)];
        // Stale when i was absorbed into its left neighbour (symbol -1) or either side changed since.
        if (symbol[size_t(i)] < 0 || j >= n) continue;
        const BpeMerge m = merges_[size_t(rank)];
        if (symbol[size_t(i)] != m.left || symbol[size_t(j)] != m.right) continue;
        symbol[size_t(i)] = kByteTokens + rank;
        symbol[size_t(j)] = -1;
        next[size_t(i)] = next[size_t(j)];
        if (next[size_t(j)] < n) prev[size_t(next[size_t(j)])] = i;
        push(prev[size_t(i)]);
        push(i);
    }
    for (int i = 0; i < n; i = next[size_t(i)]) out.push_back(symbol[size_t(i)]);
}

void BpeTokenizer::encode_ordinary(std::string_view text, const EncodeOptions&, std::vector<int32_t>& out) const {
    // Natural text repeats its words, so each distinct piece is encoded once per call. The cache is
    // local, keyed by views into `text`, which keeps encode() const and safe to call from threads.
    std::unordered_map<std::string_view, std::pair<uint32_t, uint32_t>> cache;  // piece -> (offset, count) in ids
    std::vector<int32_t> cached_ids;
    pretokenize(text, [&](std::string_view piece) {
        if (piece.size() == 1) {
            out.push_back(static_cast<uint8_t>(piece[0]));
            return;
        }
        const auto found = cache.find(piece);
        if (found != cache.end()) {
            const auto [offset, count] = found->second;
            out.insert(out.end(), cached_ids.begin() + offset, cached_ids.begin() + offset + count);
            return;
        }
        const size_t before = out.size();
        encode_piece(piece, out);
        if (cached_ids.size() + (out.size() - before) < UINT32_MAX) {
            cache.emplace(piece, std::pair<uint32_t, uint32_t>(uint32_t(cached_ids.size()), uint32_t(out.size() - before)));
            cached_ids.insert(cached_ids.end(), out.begin() + std::ptrdiff_t(before), out.end());
        }
    });
}

}  // namespace gpt
