// metrics.jsonl: one JSON object per logged step (step, tokens_seen, train_loss, val_loss when
// evaluated, lr, grad_norm, tokens_per_s, elapsed_s, and per-parameter gradient norms for the report).
#pragma once

#include <cstdint>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

namespace gpt {

class JsonLine {
public:
    JsonLine& add(const std::string& key, double value);
    JsonLine& add(const std::string& key, int64_t value);
    JsonLine& add(const std::string& key, const std::string& value);
    JsonLine& add_object(const std::string& key, const std::vector<std::pair<std::string, double>>& values);
    std::string str() const { return "{" + body_ + "}"; }

private:
    void key(const std::string& name);
    std::string body_;
};

std::string json_escape(const std::string& text);

class MetricsLog {
public:
    // Opens path for appending. When resuming, records past `keep_through_step` (written after the last
    // checkpoint by the run that stopped) are dropped first, so every step appears once.
    MetricsLog(const std::string& path, int64_t keep_through_step);
    void write(const JsonLine& line);

private:
    std::ofstream out_;
};

}  // namespace gpt
