// A parallel corpus for the encoder–decoder Transformer: a UTF-8 text file of `source<TAB>target` lines
// (the source is everything before the first tab, the target everything after it; a trailing '\r' is
// dropped; empty lines are skipped), tokenized with any tokenizer (data/tokenizer.h), and batches of it
// padded on the right with key padding lengths.
//
// Vocabulary: the tokenizer's ids 0..V−1, then bos = V (the decoder's first input) and eos = V + 1 (ends
// every target): the model's vocabulary is V + 2 (Seq2SeqVocabulary).
//
// A batch of B examples (Seq2SeqBatch), S = the longest source, T = the longest target + 1:
//   source     [B·S]  the source ids, padded with eos (never attended: source_lengths)
//   target_in  [B·T]  bos, y_1 … y_n, padded with eos (never attended: target_lengths = n + 1)
//   target_out [B·T]  y_1 … y_n, eos, then −100 (no loss: cross_entropy's ignore_index)
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "data/tokenizer.h"

namespace gpt {

struct Seq2SeqVocabulary {
    int32_t tokenizer_size = 0;  // V
    int32_t bos() const { return tokenizer_size; }
    int32_t eos() const { return tokenizer_size + 1; }
    int32_t size() const { return tokenizer_size + 2; }
};

// The text of generated target ids; bos (an untrained model can emit it mid-output) is dropped, as
// any id past the tokenizer's.
std::string decode_target(const Tokenizer& tokenizer, const std::vector<int32_t>& ids);

struct ParallelExample {
    std::vector<int32_t> source, target;  // tokenizer ids (no bos/eos)
    int64_t line = 0;                     // 1-based line in the file
};

struct ParallelCorpusLimits {
    int64_t source_block_size = 0;  // > 0: a longer source is an error (the encoder's context)
    int64_t target_block_size = 0;  // > 0: bos + target longer than this is an error (the decoder's context)
};

// Reads and tokenizes every line. Throws std::invalid_argument with one line naming FILE:LINE for: a line
// without a tab, an empty source or target, text the tokenizer cannot encode, a source or target longer
// than the limits; FILE alone when it cannot be read or holds no example.
std::vector<ParallelExample> read_parallel_corpus(const std::string& path, const Tokenizer& tokenizer,
                                                  const ParallelCorpusLimits& limits = {});

// The held-out split: the last ⌈fraction·N⌉ examples (at least one), the rest to train on (at least one).
// Throws std::invalid_argument naming `path` when there are fewer than two examples.
struct ParallelSplit {
    std::vector<ParallelExample> train, held_out;
};
ParallelSplit split_held_out(std::vector<ParallelExample> examples, double fraction, const std::string& path);

struct Seq2SeqBatch {
    int64_t B = 0, S = 0, T = 0;
    std::vector<int32_t> source, target_in, target_out;
    std::vector<int64_t> source_lengths, target_lengths;
};

// The examples at `indices`, in that order, padded as above.
Seq2SeqBatch make_seq2seq_batch(const std::vector<ParallelExample>& examples, std::span<const size_t> indices,
                                const Seq2SeqVocabulary& vocabulary);

}  // namespace gpt
