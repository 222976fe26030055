// metrics.jsonl as `gpt train` appends to it, read incrementally: each call parses only the bytes added
// since the last one, so a page polling a long run every second costs what the new lines cost. A line
// still being written (no '\n' yet) waits for the next call. A file that shrank or was replaced (another
// inode: a resume from an older checkpoint rewrites it) is read again from the start, and so is a file
// edited in place (the last bytes already read no longer match: a bad line fixed in an editor).
//
// State changes only when a read completes: the records of the new lines and the offset past them are
// committed together, so a failed read never leaves half of them behind to be appended again. A complete
// line that is not a valid record is skipped and counted: reported once (one warning line on stderr,
// and `skipped()`), never re-read, never a reason to fail the other lines.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "report/report_data.h"

namespace gpt {

class MetricsFollower {
public:
    // The records of `file` so far. Throws std::runtime_error naming the file when it cannot be read.
    const std::vector<MetricsRecord>& read(const std::filesystem::path& file);

    // Lines skipped as invalid since the file was last read from its start, and the first one's message
    // ("FILE:LINE: …").
    int64_t skipped() const { return skipped_; }
    const std::string& first_skipped() const { return first_skipped_; }

private:
    uintmax_t inode_ = 0;
    uintmax_t offset_ = 0;  // bytes of complete lines parsed
    int64_t mtime_ns_ = 0;
    std::string tail_;      // the last bytes before offset_ (up to 256), to notice an edit in place
    int64_t lines_ = 0;     // complete lines parsed (for line numbers in messages)
    int64_t skipped_ = 0;
    std::string first_skipped_;
    std::vector<MetricsRecord> records_;
};

}  // namespace gpt
