// The report's view of a run folder's metrics.jsonl (train/metrics.h writes it): one JSON object per
// logged step. Parsed with nlohmann-json (any valid JSON: strings with \u escapes, booleans, nested
// objects); the fields below are read, every other field is ignored. A line that is not JSON throws
// std::runtime_error naming the file, line and column.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gpt {

struct MetricsRecord {
    int64_t step = 0;
    int64_t tokens_seen = 0;
    double train_loss = 0.0;
    double val_loss = 0.0;   // NaN when this step was not evaluated
    double lr = 0.0;
    double grad_norm = 0.0;  // global norm before clipping
    double tokens_per_s = 0.0;
    double elapsed_s = 0.0;
    std::vector<std::pair<std::string, double>> grad_norms;     // per parameter tensor; empty if not logged
    std::vector<std::pair<std::string, double>> update_ratios;  // ‖Δw‖/‖w‖ per parameter tensor
    std::string sample;  // text sampled at this evaluation (eval_sample_tokens); empty if none
};

// Parses one metrics line. Missing numeric keys become NaN (step/tokens_seen: -1, also when not finite or
// outside int64's range); null becomes NaN.
MetricsRecord parse_metrics_line(std::string_view line);

// Every non-empty line of path, in file order. Throws naming the file and the line that fails to parse.
std::vector<MetricsRecord> read_metrics(const std::string& path);

}  // namespace gpt
