#include "train/run_folder.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <algorithm>
#include <stdexcept>

#include "checkpoint/training_state.h"
#include "train/metrics.h"

namespace gpt {
namespace fs = std::filesystem;

RunFolderLock::RunFolderLock(const fs::path& dir) {
    fs::create_directories(dir);
    const fs::path path = dir / ".lock";
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0)
        throw std::runtime_error(dir.string() + ": cannot write into the run folder (creating its lock file: " +
                                 std::strerror(errno) + "); is the run folder writable?");
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
        char holder[32] = {};
        const ssize_t n = ::pread(fd_, holder, sizeof holder - 1, 0);
        ::close(fd_);
        fd_ = -1;
        throw std::runtime_error("run folder " + dir.string() + " is in use by another gpt train" +
                                 (n > 0 ? " (pid " + std::string(holder, static_cast<size_t>(n)) + ")" : "") +
                                 "; wait for it to end or choose another --out_dir");
    }
    const std::string pid = std::to_string(::getpid());
    // The pid only serves the message above; if it cannot be written the lock still holds.
    const bool noted = ::ftruncate(fd_, 0) == 0 && ::pwrite(fd_, pid.data(), pid.size(), 0) >= 0;
    (void)noted;
}

RunFolderLock::~RunFolderLock() {
    if (fd_ >= 0) ::close(fd_);  // closing releases the flock
}

RunFolderLock& RunFolderLock::operator=(RunFolderLock&& other) noexcept {
    if (this != &other) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
}

std::vector<std::pair<int64_t, fs::path>> periodic_checkpoints(const fs::path& dir) {
    std::vector<std::pair<int64_t, fs::path>> copies;
    if (!fs::is_directory(dir)) return copies;
    for (const auto& entry : fs::directory_iterator(dir)) {
        const std::string name = entry.path().filename().string();
        if (name.size() <= 8 || name.rfind("ckpt_", 0) != 0 || entry.path().extension() != ".h5") continue;
        const std::string digits = name.substr(5, name.size() - 8);
        int64_t step = -1;
        const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), step);
        if (error == std::errc() && end == digits.data() + digits.size()) copies.emplace_back(step, entry.path());
    }
    std::sort(copies.begin(), copies.end());
    return copies;
}

void prune_periodic_checkpoints(const fs::path& dir, int64_t keep) {
    const auto copies = periodic_checkpoints(dir);
    for (size_t i = 0; i + static_cast<size_t>(keep) < copies.size(); ++i) fs::remove(copies[i].second);
}

namespace {

// The files a run writes into its folder (besides the lock); --overwrite removes exactly these.
const char* const kRunFiles[] = {"ckpt.h5", "ckpt_best.h5", "metrics.jsonl", "config.toml", "report.html",
                                 "train.bin", "val.bin", "ckpt.h5.tmp", "ckpt_best.h5.tmp"};

bool holds_a_run(const fs::path& dir) {
    return fs::exists(dir / "ckpt.h5") || fs::exists(dir / "metrics.jsonl") || !periodic_checkpoints(dir).empty();
}

void remove_run(const fs::path& dir) {
    for (const char* name : kRunFiles) fs::remove(dir / name);
    for (const auto& [step, path] : periodic_checkpoints(dir)) fs::remove(path);
}

// Resuming from `from` at `step` with --overwrite: the checkpoints after that step go (the newer
// ckpt.h5 is rewritten at the first save of the branch), the history is cut by MetricsLog.
void remove_after(const fs::path& dir, int64_t step, const fs::path& from) {
    for (const auto& [copy_step, path] : periodic_checkpoints(dir))
        if (copy_step > step && !fs::equivalent(path, from)) fs::remove(path);
    const fs::path best = dir / "ckpt_best.h5";
    if (fs::exists(best)) fs::remove(best);  // it may come from the abandoned steps; the branch writes its own
}

}  // namespace

void enter_run_folder(const RunEntry& entry) {
    const fs::path& dir = entry.dir;
    // Resuming into another folder starts a new run there from the checkpoint's state.
    const bool elsewhere = !entry.resume_from.empty() &&
                           !(fs::exists(entry.resume_from.parent_path()) && fs::equivalent(entry.resume_from.parent_path(), dir));
    if (entry.resume_from.empty() || elsewhere) {
        if (!holds_a_run(dir)) return;
        if (!entry.overwrite)
            throw std::runtime_error("run folder " + dir.string() + " already holds a run" +
                                     (fs::exists(dir / "ckpt.h5")
                                          ? " (ckpt.h5 at step " + std::to_string(checkpoint_step(dir / "ckpt.h5")) + ")"
                                          : "") +
                                     ": continue it with --resume " + dir.string() +
                                     ", replace it with --overwrite, or choose another --out_dir");
        remove_run(dir);
        return;
    }
    const fs::path latest = dir / "ckpt.h5";
    if (!fs::exists(latest) || fs::equivalent(latest, entry.resume_from)) return;
    const int64_t latest_step = checkpoint_step(latest);
    if (latest_step <= entry.resume_step) return;
    if (!entry.overwrite)
        throw std::runtime_error(entry.resume_from.string() + " is at step " + std::to_string(entry.resume_step) +
                                 " but " + latest.string() + " is at step " + std::to_string(latest_step) +
                                 ": resuming from it would abandon steps " + std::to_string(entry.resume_step + 1) +
                                 ".." + std::to_string(latest_step) + "; pass --overwrite to branch from step " +
                                 std::to_string(entry.resume_step) + " (the newer checkpoints are removed), or " +
                                 "--out_dir NEW to keep both");
    remove_after(dir, entry.resume_step, entry.resume_from);
}

}  // namespace gpt
