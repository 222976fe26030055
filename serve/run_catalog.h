// The runs gpt serve may show: what the PATH on its command line names, and nothing else.
//   a checkpoint file          one run: that file (metrics.jsonl beside it, if any)
//   a run folder               one run: FOLDER/ckpt.h5 and FOLDER/metrics.jsonl (either may be missing yet;
//                              a folder holding neither is taken for a folder of runs until it does)
//   a folder of run folders    one run per sub-folder holding ckpt.h5 or metrics.jsonl, rescanned on every
//                              call (a `gpt train` started later appears)
// A request names a run by its name; the name is looked up in this list, never joined onto a path, so
// no text from a request reaches the file system. Sub-folders and files that resolve outside the
// served folder (symlinks out) are left out.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gpt {

struct ServedRun {
    std::string name;
    std::filesystem::path checkpoint;  // ckpt.h5 (may not exist yet: a run that has not saved one); empty: none
    std::filesystem::path metrics;     // metrics.jsonl beside it (may not exist yet); empty: none
};

class RunCatalog {
public:
    // Throws std::runtime_error when `path` does not exist.
    explicit RunCatalog(const std::string& path);

    std::vector<ServedRun> list() const;                       // sorted by name
    std::optional<ServedRun> find(std::string_view name) const;  // nullopt: no such run (now)

private:
    std::filesystem::path root_;  // canonical
    enum class Kind { checkpoint_file, folder } kind_;
};

}  // namespace gpt
