// The rules of a run folder (docs/reliability.md, "Run folders"). A run never loses more than the
// progress since its last checkpoint, and nothing in a folder is replaced without being asked:
//   - one process at a time: `gpt train` holds an advisory lock on OUT_DIR/.lock for its whole life
//     (flock: the kernel drops it when the process dies, so a stale lock never blocks);
//   - a new run into a folder that holds a run (ckpt.h5 or metrics.jsonl) is refused unless
//     --overwrite, which first removes that run's files;
//   - resuming continues the folder's newest checkpoint; resuming from an older periodic copy would
//     abandon the steps after it, so it is refused unless --overwrite, which then removes the newer
//     checkpoints and the history after that step (a branch replaces the abandoned future);
//   - periodic copies ckpt_<step>.h5 are ordered by the step in their name, not by the name's text.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace gpt {

class RunFolderLock {
public:
    RunFolderLock() = default;
    // Creates `dir` if needed and locks it; throws std::runtime_error naming the folder (and the pid
    // of the holder) when another process holds it.
    explicit RunFolderLock(const std::filesystem::path& dir);
    ~RunFolderLock();
    RunFolderLock(RunFolderLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    RunFolderLock& operator=(RunFolderLock&& other) noexcept;
    RunFolderLock(const RunFolderLock&) = delete;
    RunFolderLock& operator=(const RunFolderLock&) = delete;

private:
    int fd_ = -1;
};

// How a run enters its folder (train/run_start.cpp calls this after taking the lock).
struct RunEntry {
    std::filesystem::path dir;
    std::filesystem::path resume_from;  // empty: a new run
    int64_t resume_step = 0;            // the step of resume_from
    bool overwrite = false;
};
// Applies the rules above; throws std::runtime_error with one line naming --resume / --overwrite.
void enter_run_folder(const RunEntry& entry);

// ckpt_<step>.h5 copies in `dir`, sorted by step.
std::vector<std::pair<int64_t, std::filesystem::path>> periodic_checkpoints(const std::filesystem::path& dir);
// Deletes all but the `keep` copies with the highest steps.
void prune_periodic_checkpoints(const std::filesystem::path& dir, int64_t keep);

}  // namespace gpt
