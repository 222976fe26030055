#include "data/parallel_corpus.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <fstream>
#include <stdexcept>

namespace gpt {

namespace {

[[noreturn]] void fail_at(const std::string& path, int64_t line, const std::string& message) {
    std::string text = path;
    text += ':';
    text += std::to_string(line);
    text += ": ";
    text += message;
    throw std::invalid_argument(text);
}

std::vector<int32_t> encode_side(const Tokenizer& tokenizer, std::string_view text, const char* side,
                                 const std::string& path, int64_t line) {
    try {
        return tokenizer.encode(text);
    } catch (const std::exception& error) {
        fail_at(path, line, std::string(side) + ": " + error.what());
    }
}

}  // namespace

std::vector<ParallelExample> read_parallel_corpus(const std::string& path, const Tokenizer& tokenizer,
                                                  const ParallelCorpusLimits& limits) {
    std::ifstream file(path, std::ios::binary);
    if (!file) throw std::invalid_argument(path + ": cannot open the parallel corpus");
    std::vector<ParallelExample> examples;
    std::string text;
    for (int64_t line = 1; std::getline(file, text); ++line) {
        if (!text.empty() && text.back() == '\r') text.pop_back();
        if (text.empty()) continue;
        const size_t tab = text.find('\t');
        if (tab == std::string::npos) fail_at(path, line, "no tab: a parallel corpus line is source<TAB>target");
        const std::string_view whole(text);
        ParallelExample example;
        example.line = line;
        example.source = encode_side(tokenizer, whole.substr(0, tab), "source", path, line);
        example.target = encode_side(tokenizer, whole.substr(tab + 1), "target", path, line);
        if (example.source.empty()) fail_at(path, line, "empty source");
        if (example.target.empty()) fail_at(path, line, "empty target");
        const int64_t S = static_cast<int64_t>(example.source.size());
        const int64_t T = static_cast<int64_t>(example.target.size()) + 1;  // bos + target (or target + eos)
        if (limits.source_block_size > 0 && S > limits.source_block_size)
            fail_at(path, line, "source of " + std::to_string(S) + " tokens exceeds the encoder's context source_block_size " +
                                    std::to_string(limits.source_block_size));
        if (limits.target_block_size > 0 && T > limits.target_block_size)
            fail_at(path, line, "target of " + std::to_string(T - 1) + " tokens + eos exceeds the decoder's context "
                                "target_block_size " + std::to_string(limits.target_block_size));
        examples.push_back(std::move(example));
    }
    if (file.bad()) throw std::invalid_argument(path + ": read error");
    if (examples.empty()) throw std::invalid_argument(path + ": no source<TAB>target line");
    return examples;
}

std::string decode_target(const Tokenizer& tokenizer, const std::vector<int32_t>& ids) {
    std::vector<int32_t> text_ids;
    for (int32_t id : ids)
        if (id >= 0 && id < tokenizer.vocab_size()) text_ids.push_back(id);
    return tokenizer.decode(text_ids);
}

ParallelSplit split_held_out(std::vector<ParallelExample> examples, double fraction, const std::string& path) {
    const size_t n = examples.size();
    if (n < 2)
        throw std::invalid_argument(path + ": " + std::to_string(n) +
                                    " example(s); a run needs at least two (one to train on, one held out)");
    const size_t held = std::clamp<size_t>(static_cast<size_t>(std::ceil(fraction * static_cast<double>(n))), 1, n - 1);
    ParallelSplit split;
    split.held_out.assign(std::make_move_iterator(examples.end() - static_cast<std::ptrdiff_t>(held)),
                          std::make_move_iterator(examples.end()));
    examples.resize(n - held);
    split.train = std::move(examples);
    return split;
}

Seq2SeqBatch make_seq2seq_batch(const std::vector<ParallelExample>& examples, std::span<const size_t> indices,
                                const Seq2SeqVocabulary& vocabulary) {
    Seq2SeqBatch batch;
    batch.B = static_cast<int64_t>(indices.size());
    for (size_t i : indices) {
        const ParallelExample& e = examples.at(i);
        batch.S = std::max(batch.S, static_cast<int64_t>(e.source.size()));
        batch.T = std::max(batch.T, static_cast<int64_t>(e.target.size()) + 1);
    }
    const size_t S = static_cast<size_t>(batch.S), T = static_cast<size_t>(batch.T);
    batch.source.assign(indices.size() * S, vocabulary.eos());
    batch.target_in.assign(indices.size() * T, vocabulary.eos());
    batch.target_out.assign(indices.size() * T, -100);
    for (size_t b = 0; b < indices.size(); ++b) {
        const ParallelExample& e = examples[indices[b]];
        std::copy(e.source.begin(), e.source.end(), batch.source.begin() + static_cast<std::ptrdiff_t>(b * S));
        batch.target_in[b * T] = vocabulary.bos();
        std::copy(e.target.begin(), e.target.end(), batch.target_in.begin() + static_cast<std::ptrdiff_t>(b * T + 1));
        std::copy(e.target.begin(), e.target.end(), batch.target_out.begin() + static_cast<std::ptrdiff_t>(b * T));
        batch.target_out[b * T + e.target.size()] = vocabulary.eos();
        batch.source_lengths.push_back(static_cast<int64_t>(e.source.size()));
        batch.target_lengths.push_back(static_cast<int64_t>(e.target.size()) + 1);
    }
    return batch;
}

}  // namespace gpt
