// Generation for the encoder–decoder Transformer (nn/encoder_decoder.h): greedy decoding and beam search.
// The source is encoded once, and every decoder layer's cross-attention keys and values of it are
// projected once (EncoderDecoder::memory_kv); each step feeds only the newest token through the decoder,
// whose self-attention keys and values sit in a DecoderCache (one per live hypothesis).
//
//   greedy: y_0 = bos; y_t = argmax_v p(v | y_<t, x) (the lowest id among equal logits) until eos or
//           max_new_tokens.
//   beam:   k live hypotheses; each step every (hypothesis, token) extension is ranked by its summed
//           log-probability (ties: the earlier hypothesis, then the lower id); of the best 2k, those
//           ending in eos are finished, the best k others live on (fairseq's step). Search stops when k
//           hypotheses have finished, or at max_new_tokens (the live ones are then finished as they are).
//           Finished hypotheses are ranked by score = log p(y | x) / |y|^α, |y| counting the eos when
//           present: the length penalty of Wu et al. (2016, GNMT, without its +5 offset) as fairseq applies
//           it. α = 0: raw log-probability (favours short outputs); α = 1: per-token average.
// Beam width 1 keeps the one best extension each step: greedy decoding (tested).
#pragma once

#include <cstdint>
#include <vector>

#include "nn/encoder_decoder.h"

namespace gpt {

struct Seq2SeqOptions {
    int64_t max_new_tokens = 64;  // at most target_block_size − 1 (the bos takes a position)
    int32_t bos = 0;              // the decoder's first input
    int32_t eos = 1;              // ends a hypothesis
    int64_t beam_width = 1;       // beam search only
    double length_penalty = 1.0;  // α, beam search only
};

struct Hypothesis {
    std::vector<int32_t> tokens;  // generated ids, eos excluded
    bool finished = false;        // ended with eos (else cut at max_new_tokens)
    double log_prob = 0.0;        // Σ log p of the tokens (and of the eos when finished)
    double score = 0.0;           // log_prob / length^α
};

// Source ids (one sequence, no padding) → the greedy output. The model must be in eval mode.
Hypothesis greedy_decode(const EncoderDecoder& model, const std::vector<int32_t>& source, const Seq2SeqOptions& options);
// → up to beam_width finished hypotheses, best score first.
std::vector<Hypothesis> beam_search(const EncoderDecoder& model, const std::vector<int32_t>& source,
                                    const Seq2SeqOptions& options);

}  // namespace gpt
