#include "train/metrics.h"

#include "io/atomic_write.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <stdexcept>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

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
// always first and well-formed); -1 for anything else (a line cut short by a crash).
static int64_t step_of(const std::string& line) {
    const auto at = line.find("\"step\": ");
    return at == std::string::npos ? -1 : std::atoll(line.c_str() + at + 8);
}

// write(2) all of `text` or throw naming the file and the reason (EFBIG under a file-size limit, ENOSPC
// on a full disk): a history that silently stops growing would be lost progress.
static void write_all(int fd, const std::string& text, const std::string& path) {
    size_t done = 0;
    while (done < text.size()) {
        const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) throw std::runtime_error(path + ": cannot write: " + std::strerror(n < 0 ? errno : EIO));
        done += static_cast<size_t>(n);
    }
}

// When the file holds records past the resumed step (the stopped run logged steps after its last
// checkpoint) or a line cut short by a crash, the history is replaced atomically: the kept lines go to
// path.tmp, which is synced and renamed over path, so a crash at any moment leaves either the old
// history or the new one, never an empty or half-written file. Otherwise nothing is rewritten.
static void keep_through(const std::string& path, int64_t keep_through_step) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return;
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::string kept;
    bool dropped = !text.empty() && text.back() != '\n';
    for (size_t start = 0; start < text.size();) {
        size_t end = text.find('\n', start);
        if (end == std::string::npos) break;  // the unterminated tail: dropped (flagged above)
        const std::string line = text.substr(start, end - start);
        if (!line.empty() && step_of(line) >= 0 && step_of(line) <= keep_through_step) kept += line + "\n";
        else if (!line.empty()) dropped = true;
        start = end + 1;
    }
    if (!dropped) return;
    write_bytes_atomically(path, kept);
}

MetricsLog::MetricsLog(const std::string& path, int64_t keep_through_step) : path_(path) {
    keep_through(path, keep_through_step);
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd_ < 0) throw std::runtime_error(path + ": cannot open for appending: " + std::strerror(errno));
}

MetricsLog::~MetricsLog() {
    if (fd_ >= 0) ::close(fd_);
}

void MetricsLog::write(const JsonLine& line) { write_all(fd_, line.str() + "\n", path_); }

}  // namespace gpt
