#include "serve/metrics_follower.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <string>

#include "serve/model_store.h"

namespace gpt {

const std::vector<MetricsRecord>& MetricsFollower::read(const std::filesystem::path& file) {
    const FileStamp stamp = stamp_of(file);
    if (stamp.size == offset_ && stamp.mtime_ns == mtime_ns_ && stamp.inode == inode_) return records_;
    std::ifstream in(file, std::ios::binary);
    if (!in) throw std::runtime_error(file.string() + ": cannot be read (was the run folder removed?)");
    bool start_over = stamp.inode != inode_ || stamp.size < offset_;  // replaced or rewritten
    if (!start_over && !tail_.empty()) {  // edited in place: the bytes already read changed
        std::string now(tail_.size(), '\0');
        in.seekg(static_cast<std::streamoff>(offset_ - tail_.size()));
        in.read(now.data(), static_cast<std::streamsize>(now.size()));
        start_over = !in || now != tail_;
        in.clear();
    }
    if (start_over) {
        inode_ = stamp.inode;
        offset_ = 0;
        lines_ = 0;
        skipped_ = 0;
        first_skipped_.clear();
        tail_.clear();
        records_.clear();
    }
    mtime_ns_ = stamp.mtime_ns;
    if (stamp.size == offset_) return records_;
    in.seekg(static_cast<std::streamoff>(offset_));
    std::string added(static_cast<size_t>(stamp.size - offset_), '\0');
    in.read(added.data(), static_cast<std::streamsize>(added.size()));
    added.resize(static_cast<size_t>(in.gcount()));
    // Parsed into locals first; committed below only when every complete line has been handled.
    std::vector<MetricsRecord> parsed;
    std::vector<std::string> bad;
    int64_t lines = lines_;
    size_t start = 0;
    for (size_t end = added.find('\n'); end != std::string::npos; start = end + 1, end = added.find('\n', start)) {
        ++lines;
        const std::string_view line(added.data() + start, end - start);
        if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
        try {
            parsed.push_back(parse_metrics_line(line));
        } catch (const std::runtime_error& e) {  // not a record: skipped, once
            std::string message = e.what();
            if (message.size() > 200) message = message.substr(0, 200) + "…";
            bad.push_back(file.string() + ":" + std::to_string(lines) + ": " + message);
        }
    }
    records_.insert(records_.end(), std::make_move_iterator(parsed.begin()), std::make_move_iterator(parsed.end()));
    offset_ += start;  // up to the end of the last complete line
    lines_ = lines;
    const size_t keep = std::min<size_t>(start, 256);
    if (keep > 0) tail_ = added.substr(start - keep, keep);
    for (const std::string& message : bad) {
        if (skipped_++ == 0) first_skipped_ = message;
        std::fprintf(stderr, "warning: %s (line skipped)\n", message.c_str());
    }
    return records_;
}

}  // namespace gpt
