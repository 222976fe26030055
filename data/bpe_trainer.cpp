#include "data/bpe_trainer.h"

#include <algorithm>
#include <chrono>
#include <queue>
#include <stdexcept>

#include "data/pretokenize.h"

namespace gpt {

namespace {

uint64_t key_of(int32_t left, int32_t right) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
}

struct HeapEntry {
    int64_t count;
    uint64_t key;
    // std::priority_queue pops the largest: highest count, then smallest key (left id, then right id).
    bool operator<(const HeapEntry& other) const {
        return count != other.count ? count < other.count : key > other.key;
    }
};

// Distinct words with their frequencies, sorted by bytes so everything downstream is reproducible.
struct WordTable {
    std::vector<std::vector<int32_t>> symbols;
    std::vector<int64_t> frequency;
};

WordTable count_words(std::span<const std::string_view> texts, const std::vector<std::string>& specials) {
    std::unordered_map<std::string_view, int64_t> counts;
    const std::vector<int32_t> placeholder_ids(specials.size(), 0);
    for (std::string_view text : texts)
        for (const TextPiece& piece : split_special(text, specials, placeholder_ids))
            if (piece.special_id < 0) pretokenize(piece.text, [&](std::string_view word) { ++counts[word]; });
    std::vector<std::pair<std::string_view, int64_t>> sorted(counts.begin(), counts.end());
    std::sort(sorted.begin(), sorted.end());
    WordTable table;
    table.symbols.reserve(sorted.size());
    table.frequency.reserve(sorted.size());
    for (const auto& [word, count] : sorted) {
        std::vector<int32_t> symbols(word.size());
        for (size_t i = 0; i < word.size(); ++i) symbols[i] = static_cast<uint8_t>(word[i]);
        table.symbols.push_back(std::move(symbols));
        table.frequency.push_back(count);
    }
    return table;
}

// Replaces every non-overlapping occurrence of (left, right), left to right, by merged: the same rule
// the encoder applies. Returns whether anything changed.
bool merge_in_word(std::vector<int32_t>& symbols, int32_t left, int32_t right, int32_t merged) {
    size_t write = 0;
    bool changed = false;
    for (size_t read = 0; read < symbols.size(); ++write) {
        if (read + 1 < symbols.size() && symbols[read] == left && symbols[read + 1] == right) {
            symbols[write] = merged;
            read += 2;
            changed = true;
        } else {
            symbols[write] = symbols[read++];
        }
    }
    symbols.resize(write);
    return changed;
}

}  // namespace

std::unique_ptr<BpeTokenizer> train_bpe(std::span<const std::string_view> texts, const BpeTrainOptions& options) {
    const int32_t S = static_cast<int32_t>(options.special_tokens.size());
    if (options.vocab_size < BpeTokenizer::kByteTokens + S)
        throw std::invalid_argument("train_bpe: vocab_size " + std::to_string(options.vocab_size) +
                                    " is below 256 byte tokens + " + std::to_string(S) + " special tokens");
    if (options.min_pair_count < 1)
        throw std::invalid_argument("train_bpe: min_pair_count must be >= 1, got " + std::to_string(options.min_pair_count));
    const int32_t target = options.vocab_size - BpeTokenizer::kByteTokens - S;
    const auto start_time = std::chrono::steady_clock::now();

    WordTable words = count_words(texts, options.special_tokens);
    const int32_t W = static_cast<int32_t>(words.symbols.size());

    std::unordered_map<uint64_t, int64_t> pair_count;
    std::unordered_map<uint64_t, std::vector<int32_t>> pair_words;  // may hold stale or repeated words
    for (int32_t w = 0; w < W; ++w) {
        const auto& s = words.symbols[size_t(w)];
        for (size_t i = 0; i + 1 < s.size(); ++i) {
            const uint64_t key = key_of(s[i], s[i + 1]);
            pair_count[key] += words.frequency[size_t(w)];
            pair_words[key].push_back(w);
        }
    }
    std::priority_queue<HeapEntry> heap;
    for (const auto& [key, count] : pair_count) heap.push({count, key});

    std::vector<BpeMerge> merges;
    merges.reserve(size_t(target));
    std::vector<int32_t> visited(size_t(W), -1);  // merge index that last touched the word
    std::unordered_map<uint64_t, int64_t> delta;
    std::vector<int32_t> before;
    BpeTrainProgress progress;
    progress.merges_target = target;
    progress.words = W;
    const auto report = [&]() {
        if (!options.progress) return;
        progress.merges_done = static_cast<int32_t>(merges.size());
        progress.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_time).count();
        options.progress(progress);
    };

    while (static_cast<int32_t>(merges.size()) < target && !heap.empty()) {
        const HeapEntry best = heap.top();
        heap.pop();
        const auto current = pair_count.find(best.key);
        if (current == pair_count.end() || current->second != best.count) continue;  // stale entry
        if (best.count < options.min_pair_count) break;

        const int32_t left = static_cast<int32_t>(best.key >> 32), right = static_cast<int32_t>(best.key & 0xffffffffu);
        const int32_t merged = BpeTokenizer::kByteTokens + static_cast<int32_t>(merges.size());
        const int32_t merge_index = static_cast<int32_t>(merges.size());
        merges.push_back({left, right});
        progress.last_count = best.count;

        std::vector<int32_t> affected = std::move(pair_words[best.key]);
        pair_words.erase(best.key);
        delta.clear();
        for (int32_t w : affected) {
            if (visited[size_t(w)] == merge_index) continue;
            visited[size_t(w)] = merge_index;
            auto& s = words.symbols[size_t(w)];
            const int64_t f = words.frequency[size_t(w)];
            before.assign(s.begin(), s.end());
            if (!merge_in_word(s, left, right, merged)) continue;
            // Remove the word's old pairs and add its new ones; unchanged pairs cancel in delta.
            for (size_t i = 0; i + 1 < before.size(); ++i) delta[key_of(before[i], before[i + 1])] -= f;
            for (size_t i = 0; i + 1 < s.size(); ++i) {
                const uint64_t key = key_of(s[i], s[i + 1]);
                delta[key] += f;
                if (s[i] == merged || s[i + 1] == merged) pair_words[key].push_back(w);
            }
        }
        for (const auto& [key, change] : delta) {
            if (change == 0) continue;
            int64_t& count = pair_count[key];
            count += change;
            if (count <= 0) pair_count.erase(key);
            else heap.push({count, key});
        }
        pair_count.erase(best.key);
        if (options.progress_every > 0 && static_cast<int32_t>(merges.size()) % options.progress_every == 0) report();
    }
    report();
    return BpeTokenizer::from_merges(merges, options.special_tokens);
}

std::unique_ptr<BpeTokenizer> train_bpe(std::string_view text, const BpeTrainOptions& options) {
    return train_bpe(std::span<const std::string_view>(&text, 1), options);
}

}  // namespace gpt
