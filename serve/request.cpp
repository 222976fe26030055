#include "serve/request.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

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
    SamplingOptions options;  // every field of generate/sampling.h's table, by its name
    for (const SamplingField& f : sampling_fields()) {
        if (f.integer) options.*f.integer = integer_field(request, f.name, options.*f.integer, 0, INT32_MAX);
        else options.*f.number = static_cast<float>(number_field(request, f.name, options.*f.number));
    }
    try {
        options.validate();
    } catch (const std::invalid_argument& e) {
        std::string message = e.what();  // "--temperature must be ..." : the page has no dashes
        if (message.rfind("--", 0) == 0) message.erase(0, 2);
        throw BadRequest(message);
    }
    return options;
}

double round_significant(double value, int digits) {
    if (value == 0.0 || !std::isfinite(value)) return value;
    static constexpr double kPow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    const int places = digits - 1 - static_cast<int>(std::floor(std::log10(std::fabs(value))));
    // Powers of ten up to 1e22 are exact doubles, so n / 10^k is the double nearest the decimal n·10^-k.
    if (places >= 0 && places <= 22) return std::nearbyint(value * kPow10[places]) / kPow10[places];
    if (places < 0 && places >= -22) return std::nearbyint(value / kPow10[-places]) * kPow10[-places];
    char text[32];
    std::snprintf(text, sizeof text, "%.*g", digits, value);
    return std::strtod(text, nullptr);
}

json compact_number(double value) {
    if (!std::isfinite(value)) return nullptr;
    if (value == 0.0) return 0;  // "0", not "0.0": the masked half of every attention map
    return round_significant(value);
}

json compact_row(const float* values, int64_t n) {
    json::array_t row;
    row.reserve(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) row.push_back(compact_number(values[i]));
    return row;
}

std::vector<int64_t> index_list_field(const json& request, const char* key, int64_t count) {
    std::vector<int64_t> all(static_cast<size_t>(count));
    for (int64_t i = 0; i < count; ++i) all[static_cast<size_t>(i)] = i;
    if (!request.contains(key) || request[key].is_null()) return all;
    const json& list = request[key];
    if (!list.is_array()) throw BadRequest(std::string(key) + " must be an array of indices");
    std::vector<bool> seen(static_cast<size_t>(count), false);
    std::vector<int64_t> out;
    for (const json& item : list) {
        if (!item.is_number_integer() || item.get<double>() < 0 || item.get<double>() >= static_cast<double>(count))
            throw BadRequest(std::string(key) + " must hold integers in [0, " + std::to_string(count - 1) + "]");
        const auto index = item.get<int64_t>();
        if (seen[static_cast<size_t>(index)]) throw BadRequest(std::string(key) + " names " + std::to_string(index) + " twice");
        seen[static_cast<size_t>(index)] = true;
        out.push_back(index);
    }
    return out;
}

json token_json(const Tokenizer& tokenizer, int32_t id) {
    const std::string bytes = tokenizer.token_bytes(id);
    const std::string text = printable_token(bytes);
    json values = json::array();
    for (const char c : bytes) values.push_back(static_cast<uint8_t>(c));
    return {{"id", id}, {"text", text}, {"bytes", values}};
}

bool fit_field(const json& request) {
    if (!request.contains("fit") || request["fit"].is_null()) return false;
    if (!request["fit"].is_boolean()) throw BadRequest("fit must be true or false");
    return request["fit"].get<bool>();
}

}  // namespace gpt
