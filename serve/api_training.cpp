// training_view and model_view (serve/api.h).
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "report/report_data.h"
#include "serve/api.h"

namespace gpt {

using nlohmann::json;

namespace {

// NaN (not evaluated on this step) as null, which is what JSON has for "no value".
json value_or_null(double value) { return std::isfinite(value) ? json(value) : json(nullptr); }

// The complete lines of metrics.jsonl: a line `gpt train` is still appending has no '\n' yet and waits
// for the next poll. Throws std::runtime_error when the file cannot be read (a run folder removed).
std::vector<MetricsRecord> read_complete_lines(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw std::runtime_error(file.string() + ": cannot be read (was the run folder removed?)");
    std::ostringstream buffer;
    buffer << in.rdbuf();
    const std::string text = buffer.str();
    std::vector<MetricsRecord> records;
    size_t start = 0;
    for (size_t end = text.find('\n'); end != std::string::npos; start = end + 1, end = text.find('\n', start)) {
        const std::string_view line(text.data() + start, end - start);
        if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
        try {
            records.push_back(parse_metrics_line(line));
        } catch (const std::exception& e) {
            throw std::runtime_error(file.string() + ": " + e.what());
        }
    }
    return records;
}

// Per-parameter series as one matrix [steps, names] over the steps that logged them.
json heatmap(const std::vector<MetricsRecord>& records,
             const std::vector<std::pair<std::string, double>> MetricsRecord::*field) {
    std::vector<std::string> names;
    std::map<std::string, size_t> column;
    json steps = json::array(), rows = json::array();
    for (const MetricsRecord& r : records) {
        if ((r.*field).empty()) continue;
        for (const auto& [name, value] : r.*field)
            if (column.emplace(name, names.size()).second) names.push_back(name);
        json row(names.size(), nullptr);
        for (const auto& [name, value] : r.*field) row[column[name]] = value_or_null(value);
        steps.push_back(r.step);
        rows.push_back(std::move(row));
    }
    for (json& row : rows)  // rows logged before a name appeared are shorter: pad with null
        while (row.size() < names.size()) row.push_back(nullptr);
    return {{"names", names}, {"steps", steps}, {"values", rows}};
}

}  // namespace

json training_view(const RunEntry& run) {
    json out = {{"run", run.name}};
    std::error_code error;
    if (run.metrics.empty() || !std::filesystem::exists(run.metrics, error)) {
        out["records"] = 0;  // a run that has not logged yet: an empty chart, not an error
        out["step"] = out["train_loss"] = out["val_loss"] = out["lr"] = out["grad_norm"] = json::array();
        out["grad_norms"] = out["update_ratios"] = json{{"names", json::array()}, {"steps", json::array()},
                                                        {"values", json::array()}};
        return out;
    }
    const std::vector<MetricsRecord> records = read_complete_lines(run.metrics);
    json step = json::array(), train = json::array(), val = json::array(), lr = json::array(), norm = json::array();
    for (const MetricsRecord& r : records) {
        step.push_back(r.step);
        train.push_back(value_or_null(r.train_loss));
        val.push_back(value_or_null(r.val_loss));
        lr.push_back(value_or_null(r.lr));
        norm.push_back(value_or_null(r.grad_norm));
    }
    out["records"] = records.size();
    out["step"] = std::move(step);
    out["train_loss"] = std::move(train);
    out["val_loss"] = std::move(val);
    out["lr"] = std::move(lr);
    out["grad_norm"] = std::move(norm);
    out["grad_norms"] = heatmap(records, &MetricsRecord::grad_norms);
    out["update_ratios"] = heatmap(records, &MetricsRecord::update_ratios);
    return out;
}

json model_view(const LoadedCheckpoint& checkpoint) {
    const GPTConfig& c = checkpoint.model_config;
    json parameters = json::array();
    for (const auto& [name, tensor] : checkpoint.model->named_parameters())
        parameters.push_back({{"name", name}, {"shape", tensor.shape()}});
    return {{"config",
             {{"vocab_size", c.vocab_size}, {"tokens", c.tokens()}, {"block_size", c.block_size},
              {"n_layer", c.n_layer}, {"n_head", c.n_head}, {"n_kv_head", c.kv_heads()}, {"n_embd", c.n_embd},
              {"pos_encoding", c.pos_encoding}, {"bias", c.bias}}},
            {"tokenizer", checkpoint.tokenizer->type()},
            {"parameter_count", checkpoint.model->parameter_count()},
            {"parameters", parameters}};
}

}  // namespace gpt
