// The model file of an encoder–decoder (model = transformer, nn/encoder_decoder.h): one checkpoint format
// with the GPT's (docs/checkpoint_format.md), only /config differs:
//
//   /config      attributes source_vocab_size, target_vocab_size, source_block_size, target_block_size,
//                n_encoder_layer, n_decoder_layer, n_head, n_embd, dim_feedforward, dropout, activation,
//                norm_first, share_embeddings, tie_embeddings; train_config (TOML text, as the GPT's)
//   /model       attribute model = "transformer"; one float32 dataset per named_parameters() entry
//   /meta, /tokenizer, /optimizer, /train   as the GPT's
//
// The model's vocabulary is the tokenizer's + 2 (bos, eos: data/parallel_corpus.h Seq2SeqVocabulary).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "data/tokenizer.h"
#include "nn/encoder_decoder.h"

namespace gpt {

class H5File;

// Writes a weights-only file atomically; `fill_more` adds groups (the training state) before it is written.
void save_encoder_decoder(const std::string& path, const EncoderDecoder& model, const Tokenizer& tokenizer,
                          const std::string& train_config_toml, const std::function<void(H5File&)>& fill_more = {});

struct LoadedEncoderDecoder {
    EncoderDecoderConfig config;    // as stored (dropout as the model was built with)
    std::string train_config_toml;  // "" when absent
    std::unique_ptr<EncoderDecoder> model;  // eval mode
    std::shared_ptr<Tokenizer> tokenizer;
    bool has_training_state = false;
};

// Every failure (another model kind included) is a std::runtime_error with one line naming the file.
// dropout: build the model with this dropout instead of the stored one.
LoadedEncoderDecoder read_encoder_decoder(const H5File& file, std::optional<double> dropout = std::nullopt);
LoadedEncoderDecoder load_encoder_decoder(const std::string& path, std::optional<double> dropout = std::nullopt);

// "gpt" | "transformer" | …: the kind of the checkpoint at `path` (a file; "gpt" for files older than kinds).
std::string checkpoint_model_kind(const std::string& path);

}  // namespace gpt
