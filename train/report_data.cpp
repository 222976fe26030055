#include "train/report_data.h"

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <stdexcept>

namespace gpt {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// A cursor over one line: value = number | null | string | {key: value, ...} (one level deep).
class FlatJson {
public:
    explicit FlatJson(std::string_view text) : text_(text) {}

    void fail(const std::string& what) const {
        throw std::runtime_error("metrics line, column " + std::to_string(pos_ + 1) + ": " + what);
    }
    void skip_space() {
        while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\r')) ++pos_;
    }
    bool consume(char c) {
        skip_space();
        if (pos_ < text_.size() && text_[pos_] == c) {
            ++pos_;
            return true;
        }
        return false;
    }
    void expect(char c) {
        if (!consume(c)) fail(std::string("expected '") + c + "'");
    }
    bool at_end() {
        skip_space();
        return pos_ == text_.size();
    }
    char peek() {
        skip_space();
        return pos_ < text_.size() ? text_[pos_] : '\0';
    }

    std::string string() {
        expect('"');
        std::string out;
        while (pos_ < text_.size() && text_[pos_] != '"') {
            char c = text_[pos_++];
            if (c == '\\') {
                if (pos_ >= text_.size()) fail("unterminated escape");
                const char e = text_[pos_++];
                switch (e) {
                    case 'n': c = '\n'; break;
                    case 't': c = '\t'; break;
                    case 'r': c = '\r'; break;
                    case 'u': {
                        if (pos_ + 4 > text_.size()) fail("short \\u escape");
                        // Parameter names are ASCII; \u00XX is all json_escape ever writes.
                        c = static_cast<char>(std::strtol(std::string(text_.substr(pos_, 4)).c_str(), nullptr, 16));
                        pos_ += 4;
                        break;
                    }
                    default: c = e;
                }
            }
            out += c;
        }
        expect('"');
        return out;
    }

    double number() {
        skip_space();
        if (text_.substr(pos_, 4) == "null") {
            pos_ += 4;
            return kNaN;
        }
        const std::string rest(text_.substr(pos_, 40));
        char* end = nullptr;
        const double value = std::strtod(rest.c_str(), &end);
        if (end == rest.c_str()) fail("expected a number");
        pos_ += static_cast<size_t>(end - rest.c_str());
        return value;
    }

    std::vector<std::pair<std::string, double>> object_of_numbers() {
        std::vector<std::pair<std::string, double>> out;
        expect('{');
        if (consume('}')) return out;
        do {
            std::string key = string();
            expect(':');
            out.emplace_back(std::move(key), number());
        } while (consume(','));
        expect('}');
        return out;
    }

private:
    std::string_view text_;
    size_t pos_ = 0;
};

}  // namespace

MetricsRecord parse_metrics_line(std::string_view line) {
    MetricsRecord r;
    r.step = -1;
    r.tokens_seen = -1;
    r.train_loss = r.val_loss = r.lr = r.grad_norm = r.tokens_per_s = r.elapsed_s = kNaN;
    FlatJson json(line);
    json.expect('{');
    if (!json.consume('}')) {
        do {
            const std::string key = json.string();
            json.expect(':');
            if (json.peek() == '{') {
                auto values = json.object_of_numbers();
                if (key == "grad_norms") r.grad_norms = std::move(values);
                else if (key == "update_ratios") r.update_ratios = std::move(values);
                continue;
            }
            if (json.peek() == '"') {  // a string value: no field of the report is one
                json.string();
                continue;
            }
            const double value = json.number();
            if (key == "step") r.step = static_cast<int64_t>(value);
            else if (key == "tokens_seen") r.tokens_seen = static_cast<int64_t>(value);
            else if (key == "train_loss") r.train_loss = value;
            else if (key == "val_loss") r.val_loss = value;
            else if (key == "lr") r.lr = value;
            else if (key == "grad_norm") r.grad_norm = value;
            else if (key == "tokens_per_s") r.tokens_per_s = value;
            else if (key == "elapsed_s") r.elapsed_s = value;
        } while (json.consume(','));
        json.expect('}');
    }
    if (!json.at_end()) json.fail("text after the closing '}'");
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
