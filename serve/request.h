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

// Numbers as the page draws them: `value` rounded to 4 significant digits (the nearest double to that
// decimal, which JSON prints in its short form, "0.5461" rather than "0.5460832118988037"); a non-finite
// value as null. compact_row: n floats as such an array.
double round_significant(double value, int digits = 4);
nlohmann::json compact_number(double value);
nlohmann::json compact_row(const float* values, int64_t n);

// An optional list of distinct indices in [0, count) ("layers", "heads"); absent or null: all of them.
std::vector<int64_t> index_list_field(const nlohmann::json& request, const char* key, int64_t count);

// "fit": true, false or absent (false); anything else throws BadRequest.
bool fit_field(const nlohmann::json& request);

// What an answer may still send under kMaxResponseBytes ("fit": true): each matrix is taken whole while
// it fits, in the order asked; one that does not is left out and remembered (the answer's "truncated").
class ResponseBudget {
public:
    explicit ResponseBudget(double bytes) : left_(bytes) {}
    bool take(double bytes) {
        if (bytes > left_) {
            left_out_ = true;
            return false;
        }
        left_ -= bytes;
        return true;
    }
    bool left_out() const { return left_out_; }

private:
    double left_;
    bool left_out_ = false;
};

// A token for the page: {"id", "text" (its bytes as readable text: \n, \t, \xNN for bytes that are not
// whole printable characters), "bytes" (the byte values)}.
nlohmann::json token_json(const Tokenizer& tokenizer, int32_t id);

}  // namespace gpt
