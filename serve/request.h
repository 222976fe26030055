// Reading a request object of the JSON API: every field optional with a default, typed and range-checked;
// a wrong one throws BadRequest naming the field ("top_p must be in (0, 1], got 2").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "data/tokenizer.h"
#include "generate/sampling.h"
#include "checkpoint/model_file.h"

namespace gpt {

double number_field(const nlohmann::json& request, const char* key, double fallback);
int64_t integer_field(const nlohmann::json& request, const char* key, int64_t fallback, int64_t min, int64_t max);
std::string text_field(const nlohmann::json& request, const char* key, size_t max_bytes);

// "prompt" (at most kMaxPromptBytes of text, at most block_size tokens; empty: the default start token)
// encoded by the checkpoint's tokenizer, as `gpt sample --prompt` encodes it.
std::vector<int32_t> prompt_ids(const LoadedCheckpoint& checkpoint, const nlohmann::json& request);

// temperature, top_k, top_p, repetition_penalty, with `gpt sample`'s defaults and checks.
SamplingOptions sampling_options(const nlohmann::json& request);

// A token for the page: {"id", "text" (its bytes as readable text: \n, \t, \xNN for bytes that are not
// whole printable characters), "bytes" (the byte values)}.
nlohmann::json token_json(const Tokenizer& tokenizer, int32_t id);

}  // namespace gpt
