#include "serve/request.h"

#include <cmath>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "data/token_display.h"
#include "generate/generate.h"
#include "serve/api.h"

namespace gpt {

using nlohmann::json;

double number_field(const json& request, const char* key, double fallback) {
    if (!request.contains(key) || request[key].is_null()) return fallback;
    if (!request[key].is_number()) throw BadRequest(std::string(key) + " must be a number");
    const double value = request[key].get<double>();
    if (!std::isfinite(value)) throw BadRequest(std::string(key) + " must be finite");
    return value;
}

int64_t integer_field(const json& request, const char* key, int64_t fallback, int64_t min, int64_t max) {
    if (!request.contains(key) || request[key].is_null()) return fallback;
    if (!request[key].is_number_integer()) throw BadRequest(std::string(key) + " must be an integer");
    // Read as a double first: a huge value must not wrap around on the way to int64.
    const double value = request[key].get<double>();
    if (value < static_cast<double>(min) || value > static_cast<double>(max))
        throw BadRequest(std::string(key) + " must be in [" + std::to_string(min) + ", " + std::to_string(max) +
                         "], got " + request[key].dump());
    return request[key].get<int64_t>();
}

std::string text_field(const json& request, const char* key, size_t max_bytes) {
    if (!request.contains(key) || request[key].is_null()) return "";
    if (!request[key].is_string()) throw BadRequest(std::string(key) + " must be a string");
    std::string text = request[key].get<std::string>();
    if (text.size() > max_bytes)
        throw BadRequest(std::string(key) + " has " + std::to_string(text.size()) + " bytes; the limit is " +
                         std::to_string(max_bytes));
    return text;
}

std::vector<int32_t> prompt_ids(const LoadedCheckpoint& checkpoint, const json& request) {
    const std::string prompt = text_field(request, "prompt", kMaxPromptBytes);
    try {
        return encode_prompt(*checkpoint.tokenizer, prompt, checkpoint.model_config.block_size);
    } catch (const std::invalid_argument& e) {  // too many tokens, a character the vocabulary lacks
        const std::string message = e.what();
        throw BadRequest(message.rfind("prompt", 0) == 0 ? message : "prompt: " + message);
    }
}

SamplingOptions sampling_options(const json& request) {
    SamplingOptions options;
    options.temperature = static_cast<float>(number_field(request, "temperature", options.temperature));
    options.top_k = integer_field(request, "top_k", options.top_k, 0, INT32_MAX);
    options.top_p = static_cast<float>(number_field(request, "top_p", options.top_p));
    options.repetition_penalty = static_cast<float>(number_field(request, "repetition_penalty", 1.0));
    try {
        options.validate();
    } catch (const std::invalid_argument& e) {
        std::string message = e.what();  // "--temperature must be ..." : the page has no dashes
        if (message.rfind("--", 0) == 0) message.erase(0, 2);
        throw BadRequest(message);
    }
    return options;
}

json token_json(const Tokenizer& tokenizer, int32_t id) {
    const std::string bytes = tokenizer.token_bytes(id);
    const std::string text = printable_token(bytes);
    json values = json::array();
    for (const char c : bytes) values.push_back(static_cast<uint8_t>(c));
    return {{"id", id}, {"text", text}, {"bytes", values}};
}

}  // namespace gpt
