// metrics.jsonl as `gpt train` appends to it, read incrementally: each call parses only the bytes added
// since the last one, so a page polling a long run every second costs what the new lines cost. A line
// still being written (no '\n' yet) waits for the next call. A file that shrank or was replaced (another
// inode: a resume from an older checkpoint rewrites it) is read again from the start.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

#include "report/report_data.h"

namespace gpt {

class MetricsFollower {
public:
    // The records of `file` so far. Throws std::runtime_error naming the file when it cannot be read or
    // a complete line is not valid JSON.
    const std::vector<MetricsRecord>& read(const std::filesystem::path& file);

private:
    uintmax_t inode_ = 0;
    uintmax_t offset_ = 0;  // bytes of complete lines parsed
    std::vector<MetricsRecord> records_;
};

}  // namespace gpt
