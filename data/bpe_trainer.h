// Trains a byte-level BPE tokenizer: the merges that, applied greedily, best compress the corpus.
//
// Incremental, not a rescan per merge (the approach of HuggingFace tokenizers): the corpus is
// pre-split and each distinct word is kept once with its frequency; pair counts (frequency-weighted)
// and a pair -> words index are built once; each merge touches only the words that contain its pair,
// adding and removing pair counts there; a max-heap with lazy deletion gives the next best pair.
// Ties on count go to the smallest (left id, right id), so the same input gives the same merges.
#pragma once

#include <functional>
#include <span>

#include "data/bpe_tokenizer.h"

namespace gpt {

struct BpeTrainProgress {
    int32_t merges_done = 0;
    int32_t merges_target = 0;
    int64_t last_count = 0;  // frequency of the pair merged last
    int64_t words = 0;       // distinct pre-split words in the corpus
    double seconds = 0.0;    // since training started
};

struct BpeTrainOptions {
    int32_t vocab_size = 4096;  // 256 bytes + merges + special tokens
    std::vector<std::string> special_tokens{std::string(kEndOfText)};
    int64_t min_pair_count = 2;  // stop early (smaller vocabulary) when no pair occurs this often
    std::function<void(const BpeTrainProgress&)> progress;  // called every progress_every merges and at the end
    int32_t progress_every = 512;
};

// Special tokens are cut out of the texts before pre-splitting, so no merge spans or includes one.
std::unique_ptr<BpeTokenizer> train_bpe(std::span<const std::string_view> texts, const BpeTrainOptions& options);
std::unique_ptr<BpeTokenizer> train_bpe(std::string_view text, const BpeTrainOptions& options);

}  // namespace gpt
