#include "common/output_path.h"

#include <stdexcept>

namespace gpt {
namespace fs = std::filesystem;

namespace {

std::string kind_of(const fs::file_status& status) {
    switch (status.type()) {
        case fs::file_type::directory: return "a directory";
        case fs::file_type::fifo: return "a FIFO";
        case fs::file_type::character: return "a character device";
        case fs::file_type::block: return "a block device";
        case fs::file_type::socket: return "a socket";
        default: return "not a regular file";
    }
}

bool in_run_folder(const fs::path& file) {
    const fs::path dir = file.has_parent_path() ? file.parent_path() : fs::path(".");
    std::error_code error;
    for (const char* marker : {"metrics.jsonl", "config.toml", ".lock"})
        if (fs::exists(dir / marker, error)) return true;
    return false;
}

}  // namespace

void check_output_file(const fs::path& path, const std::string& what, bool overwrite) {
    std::error_code error;
    const fs::file_status status = fs::status(path, error);  // follows symlinks
    if (!fs::exists(status)) return;
    const std::string where = (what.empty() ? "" : what + " ") + path.string() + ": ";
    if (!fs::is_regular_file(status))
        throw std::runtime_error(where + "is " + kind_of(status) + ", not a file this command can replace; choose another path");
    const std::string name = path.filename().string();
    if (!overwrite && name.rfind("ckpt", 0) == 0 && path.extension() == ".h5" && in_run_folder(path))
        throw std::runtime_error(where + "is a run's checkpoint; refusing to replace it (give --overwrite to replace it, "
                                 "or choose another path)");
}

}  // namespace gpt
