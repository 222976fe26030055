// metrics.jsonl: one JSON object per logged step (step, tokens_seen, train_loss, val_loss when
// evaluated, lr, grad_norm, tokens_per_s, elapsed_s, cpu_s (process CPU seconds, all threads), and
// per-parameter gradient norms for the report).
#pragma once

#include <cstdint>
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

// The run's history. Lines are only ever appended (O_APPEND, one write per line, every error thrown);
// the one rewrite — dropping records past the resumed step, which the stopped run logged after its last
// checkpoint, and a line a crash cut short — replaces the file atomically (tmp + fsync + rename).
class MetricsLog {
public:
    MetricsLog(const std::string& path, int64_t keep_through_step);
    ~MetricsLog();
    MetricsLog(const MetricsLog&) = delete;
    MetricsLog& operator=(const MetricsLog&) = delete;
    void write(const JsonLine& line);  // throws std::runtime_error naming the file on any write error

private:
    std::string path_;
    int fd_ = -1;
};

}  // namespace gpt
