// The parts of a model file every model kind shares (docs/checkpoint_format.md): /meta, /model (its
// `model` attribute names the kind: "gpt" | "transformer" | "bert"; absent = "gpt", every file written
// before there were kinds), /tokenizer. Each kind writes its own /config (checkpoint/model_file.cpp for
// the GPT, checkpoint/encoder_decoder_file.cpp for the encoder–decoder). Internal to checkpoint/.
#pragma once

#include <memory>
#include <string>

#include "data/tokenizer.h"
#include "nn/module.h"

namespace gpt {

class H5File;
class H5Group;

// /meta (format_version, created_by) and /model: `kind` as its `model` attribute, one float32 dataset per
// named_parameters() entry.
// (/tokenizer: write_tokenizer, checkpoint/model_file.h.)
void write_meta_and_weights(H5File& file, const Module& model, const std::string& kind);

// Each throws std::runtime_error with one line naming the file and the object.
void check_meta(const H5File& file);  // /meta's format_version is this build's
H5Group config_group(const H5File& file);  // /config (absent: "not a checkpoint of this project")
std::string model_kind(const H5File& file);  // /model's `model` attribute, "gpt" when absent
// A stored kind other than `kind`: "FILE: a model = K checkpoint; this needs model = kind (hint)".
void require_model_kind(const H5File& file, const std::string& kind, const std::string& command_hint);
std::shared_ptr<Tokenizer> read_tokenizer(const H5File& file);
// Every weight of `model` from /model (names and shapes checked; a dataset the model lacks is an error).
void read_model(const H5File& file, Module& model);
// A NaN or Inf weight would make every command print garbage with exit 0: name the first one instead.
void check_finite(const Module& model, const std::string& path);

}  // namespace gpt
