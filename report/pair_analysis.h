// What the encoder–decoder (model = transformer) does with one source/target pair, for the report's
// attention maps and gpt serve's forward view: the model's own encode and decode (nn/encoder_decoder.h)
// run once without a tape, with an EncoderDecoderProbe that asks every attention op for its
// probabilities (the op's sink, before dropout):
//   encoder self-attention  [L_enc, H, S, S]  bidirectional: every source token sees every other
//   decoder self-attention  [L_dec, H, T, T]  causal: 0 above the diagonal
//   cross attention         [L_dec, H, T, S]  decoder position i over the source tokens
// The decoder's input is bos followed by the target's tokens (teacher forcing, as in training), so
// row t of the logits is the model's distribution for target token t + 1 (t = T − 1: what follows
// the whole target, eos when the model is done).
#pragma once

#include <cstdint>
#include <vector>

#include "data/parallel_corpus.h"
#include "nn/encoder_decoder.h"

namespace gpt {

struct PairAnalysis {
    int64_t S = 0, T = 0;                // source tokens; decoder inputs (bos + target)
    std::vector<int32_t> decoder_input;  // [T]: bos, target ids
    EncoderDecoderProbe attention;       // batch 1: [1, H, S, S] / [1, H, T, T] / [1, H, T, S] per layer
    std::vector<float> logits;           // [T, V]: row t predicts the decoder input t + 1 (the last: what follows)

    const float* row(int64_t t) const { return logits.data() + t * (static_cast<int64_t>(logits.size()) / T); }
};

// source: 1..source_block_size tokenizer ids; target: 0..target_block_size − 1 ids (without bos/eos).
// The model must be in eval mode. Throws std::invalid_argument naming the length or mode that is wrong.
PairAnalysis analyse_pair(const EncoderDecoder& model, const Seq2SeqVocabulary& vocabulary,
                          const std::vector<int32_t>& source, const std::vector<int32_t>& target);

}  // namespace gpt
