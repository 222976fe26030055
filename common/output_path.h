// The one rule for a file a command writes (gpt import's OUT, gpt export's files, gpt graph's --out,
// gpt report's report.html): the path is absent or a regular file (after symlinks). A FIFO, a device
// such as /dev/null or /dev/full, a directory or a socket is refused: writing there would block, vanish
// or fail, and the atomic rename would replace the special file with a regular one. A file that is a
// run's checkpoint (ckpt*.h5 in a folder holding a run: metrics.jsonl, config.toml or .lock) is
// replaced only when `overwrite` says so, as `gpt train` refuses to start over a run.
#pragma once

#include <filesystem>
#include <string>

namespace gpt {

// Throws std::runtime_error "<what> <path>: <why>" when the rule above refuses `path`.
void check_output_file(const std::filesystem::path& path, const std::string& what, bool overwrite = false);

}  // namespace gpt
