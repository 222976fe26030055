#include "report/report_data.h"

#include <cmath>
#include <fstream>
#include <limits>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace gpt {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
using Json = nlohmann::ordered_json;  // keeps the per-parameter objects in the order they were written

// A number, or NaN for null, booleans, strings, arrays and objects (fields the report plots are numbers;
// others written by later versions or by hand, "note": true say, are not the reader's business).
double number_or_nan(const Json& value) { return value.is_number() ? value.get<double>() : kNaN; }

std::vector<std::pair<std::string, double>> numbers_of(const Json& object) {
    std::vector<std::pair<std::string, double>> out;
    if (!object.is_object()) return out;
    for (const auto& [name, value] : object.items()) out.emplace_back(name, number_or_nan(value));
    return out;
}

}  // namespace

MetricsRecord parse_metrics_line(std::string_view line) {
    Json json;
    try {
        json = Json::parse(line);
    } catch (const Json::parse_error& e) {
        const std::string what = e.what();
        const bool trailing = what.find("expected end of input") != std::string::npos;
        throw std::runtime_error("metrics line, column " + std::to_string(e.byte) + ": " +
                                 (trailing ? std::string("text after the closing '}'") : what));
    }
    if (!json.is_object()) throw std::runtime_error("metrics line: not a JSON object");
    MetricsRecord r;
    const auto field = [&](const char* key) { return json.contains(key) ? number_or_nan(json[key]) : kNaN; };
    const auto count = [&](const char* key) {
        // A count the int64 cannot hold ({"step": 1e300}: the cast would be undefined; UBSan reports it
        // under fuzz/fuzz_config_metrics.cpp) is no count: -1, like a missing or non-finite one.
        const double v = field(key);
        constexpr double kLimit = 9223372036854775808.0;  // 2^63
        return v >= -kLimit && v < kLimit ? static_cast<int64_t>(v) : int64_t{-1};
    };
    r.step = count("step");
    r.tokens_seen = count("tokens_seen");
    r.train_loss = field("train_loss");
    r.val_loss = field("val_loss");
    r.lr = field("lr");
    r.grad_norm = field("grad_norm");
    r.tokens_per_s = field("tokens_per_s");
    r.elapsed_s = field("elapsed_s");
    if (json.contains("grad_norms")) r.grad_norms = numbers_of(json["grad_norms"]);
    if (json.contains("update_ratios")) r.update_ratios = numbers_of(json["update_ratios"]);
    if (json.contains("sample") && json["sample"].is_string()) r.sample = json["sample"].get<std::string>();
    return r;
}

std::vector<MetricsRecord> read_metrics(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error(path + ": cannot open (no metrics.jsonl: was the run trained with gpt train?)");
    std::vector<MetricsRecord> records;
    std::string line;
    int64_t number = 0;
    while (std::getline(in, line)) {
        ++number;
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        try {
            records.push_back(parse_metrics_line(line));
        } catch (const std::runtime_error& e) {
            throw std::runtime_error(path + ":" + std::to_string(number) + ": " + e.what());
        }
    }
    return records;
}

}  // namespace gpt
