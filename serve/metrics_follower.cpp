#include "serve/metrics_follower.h"

#include <fstream>
#include <stdexcept>
#include <string>

#include "serve/model_store.h"

namespace gpt {

const std::vector<MetricsRecord>& MetricsFollower::read(const std::filesystem::path& file) {
    const FileStamp stamp = stamp_of(file);
    if (stamp.inode != inode_ || stamp.size < offset_) {  // replaced or rewritten: start over
        inode_ = stamp.inode;
        offset_ = 0;
        records_.clear();
    }
    if (stamp.size == offset_) return records_;
    std::ifstream in(file, std::ios::binary);
    if (!in) throw std::runtime_error(file.string() + ": cannot be read (was the run folder removed?)");
    in.seekg(static_cast<std::streamoff>(offset_));
    std::string added(static_cast<size_t>(stamp.size - offset_), '\0');
    in.read(added.data(), static_cast<std::streamsize>(added.size()));
    added.resize(static_cast<size_t>(in.gcount()));
    size_t start = 0;
    for (size_t end = added.find('\n'); end != std::string::npos; start = end + 1, end = added.find('\n', start)) {
        const std::string_view line(added.data() + start, end - start);
        if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
        try {
            records_.push_back(parse_metrics_line(line));
        } catch (const std::exception& e) {
            throw std::runtime_error(file.string() + ": " + e.what());
        }
    }
    offset_ += start;  // up to the end of the last complete line
    return records_;
}

}  // namespace gpt
