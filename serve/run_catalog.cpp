#include "serve/run_catalog.h"

#include <algorithm>
#include <stdexcept>
#include <system_error>

namespace gpt {

namespace fs = std::filesystem;

namespace {

// True when `path` exists and, with every symlink resolved, lies inside `root` (canonical).
bool inside(const fs::path& path, const fs::path& root) {
    std::error_code error;
    const fs::path resolved = fs::canonical(path, error);
    if (error) return false;
    const auto [root_end, unused] = std::mismatch(root.begin(), root.end(), resolved.begin(), resolved.end());
    return root_end == root.end();
}

bool holds_run(const fs::path& folder) {
    std::error_code error;
    return fs::is_regular_file(folder / "ckpt.h5", error) || fs::is_regular_file(folder / "metrics.jsonl", error);
}

}  // namespace

RunCatalog::RunCatalog(const std::string& path) {
    std::error_code error;
    root_ = fs::canonical(path, error);
    if (error) throw std::runtime_error(path + ": " + error.message());
    if (fs::is_regular_file(root_)) kind_ = Kind::checkpoint_file;
    else if (fs::is_directory(root_)) kind_ = Kind::folder;
    else throw std::runtime_error(path + ": not a checkpoint file, a run folder or a folder of runs");
}

std::vector<ServedRun> RunCatalog::list() const {
    std::vector<ServedRun> runs;
    switch (kind_) {
        case Kind::checkpoint_file:
            runs.push_back({root_.parent_path().filename().string() + "/" + root_.filename().string(), root_,
                            root_.parent_path() / "metrics.jsonl"});
            break;
        case Kind::folder: {
            // A run folder, or a folder of them; decided on every call, so that `gpt serve runs/x` started
            // before `gpt train --out_dir runs/x` shows the run once it has logged.
            if (holds_run(root_)) {
                runs.push_back({root_.filename().string(), root_ / "ckpt.h5", root_ / "metrics.jsonl"});
                break;
            }
            // Error codes, not exceptions: a folder that vanishes while being listed is simply not listed.
            std::error_code error;
            for (fs::directory_iterator it(root_, error), end; !error && it != end; it.increment(error)) {
                const fs::path folder = it->path();
                std::error_code ignored;
                if (!it->is_directory(ignored) || !inside(folder, root_) || !holds_run(folder)) continue;
                runs.push_back({folder.filename().string(), folder / "ckpt.h5", folder / "metrics.jsonl"});
            }
            break;
        }
    }
    // A file that resolves outside the served folder (a symlink out) is not served.
    const fs::path served = kind_ == Kind::checkpoint_file ? root_.parent_path() : root_;
    for (ServedRun& run : runs) {
        std::error_code error;
        for (fs::path* file : {&run.checkpoint, &run.metrics})
            if (fs::exists(*file, error) && !inside(*file, served)) file->clear();
    }
    std::sort(runs.begin(), runs.end(), [](const ServedRun& a, const ServedRun& b) { return a.name < b.name; });
    return runs;
}

std::optional<ServedRun> RunCatalog::find(std::string_view name) const {
    for (ServedRun& run : list())
        if (run.name == name) return std::move(run);
    return std::nullopt;
}

}  // namespace gpt
