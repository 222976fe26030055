#include "train/metrics.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <stdexcept>

namespace gpt {

std::string json_escape(const std::string& text) {
    std::string out;
    for (unsigned char c : text) {
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default:
                if (c < 0x20) {
                    char buffer[8];
                    std::snprintf(buffer, sizeof buffer, "\\u%04x", c);
                    out += buffer;
                } else {
                    out += static_cast<char>(c);
                }
        }
    }
    return out;
}

void JsonLine::key(const std::string& name) {
    if (!body_.empty()) body_ += ", ";
    body_ += '"';
    body_ += json_escape(name);
    body_ += "\": ";
}

static std::string json_number(double value) {
    if (!std::isfinite(value)) return "null";  // JSON has no NaN/Inf
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.9g", value);
    return buffer;
}

JsonLine& JsonLine::add(const std::string& name, double value) {
    key(name);
    body_ += json_number(value);
    return *this;
}

JsonLine& JsonLine::add(const std::string& name, int64_t value) {
    key(name);
    body_ += std::to_string(value);
    return *this;
}

JsonLine& JsonLine::add(const std::string& name, const std::string& value) {
    key(name);
    body_ += '"';
    body_ += json_escape(value);
    body_ += '"';
    return *this;
}

JsonLine& JsonLine::add_object(const std::string& name, const std::vector<std::pair<std::string, double>>& values) {
    key(name);
    body_ += "{";
    for (size_t i = 0; i < values.size(); ++i) {
        if (i) body_ += ", ";
        body_ += '"';
        body_ += json_escape(values[i].first);
        body_ += "\": ";
        body_ += json_number(values[i].second);
    }
    body_ += "}";
    return *this;
}

// The step of a metrics line: the number after "step": (lines are written by this file, so the key is
// always first and well-formed).
static int64_t step_of(const std::string& line) {
    const auto at = line.find("\"step\": ");
    return at == std::string::npos ? -1 : std::atoll(line.c_str() + at + 8);
}

MetricsLog::MetricsLog(const std::string& path, int64_t keep_through_step) {
    if (std::filesystem::exists(path)) {
        std::ifstream in(path);
        std::stringstream kept;
        std::string line;
        while (std::getline(in, line))
            if (!line.empty() && step_of(line) <= keep_through_step) kept << line << "\n";
        in.close();
        std::ofstream rewrite(path, std::ios::trunc);
        rewrite << kept.str();
    }
    out_.open(path, std::ios::app);
    if (!out_) throw std::runtime_error(path + ": cannot open for writing");
}

void MetricsLog::write(const JsonLine& line) {
    out_ << line.str() << "\n";
    out_.flush();
}

}  // namespace gpt
