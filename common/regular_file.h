// The one check every file a user names goes through before anything opens it: it must be a regular
// file (after following symlinks). A FIFO would block the open or the read forever, a character device
// such as /dev/zero or /dev/urandom never ends, a directory or socket cannot be read as a file. An
// optional size limit stops a file far too large for its role (a config file, a prompt) from being read
// into memory.
#pragma once

#include <sys/stat.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>

namespace gpt {

// Throws std::runtime_error("<what> <path>: <why>") unless path names a regular file of at most
// max_bytes bytes (max_bytes < 0: no limit). `what` names the role ("config file", "checkpoint").
inline void require_regular_file(const std::string& path, const std::string& what, int64_t max_bytes = -1) {
    struct stat info {};
    const std::string name = (what.empty() ? "" : what + " ") + path;
    if (::stat(path.c_str(), &info) != 0) throw std::runtime_error(name + ": " + std::strerror(errno));
    const char* kind = S_ISREG(info.st_mode)    ? nullptr
                       : S_ISDIR(info.st_mode)  ? "a directory"
                       : S_ISFIFO(info.st_mode) ? "a FIFO (named pipe)"
                       : S_ISCHR(info.st_mode)  ? "a character device"
                       : S_ISBLK(info.st_mode)  ? "a block device"
                       : S_ISSOCK(info.st_mode) ? "a socket"
                                                : "not a regular file";
    if (kind) throw std::runtime_error(name + ": is " + std::string(kind) + ", not a regular file");
    if (max_bytes >= 0 && info.st_size > max_bytes)
        throw std::runtime_error(name + ": " + std::to_string(info.st_size) + " bytes, more than the " +
                                 std::to_string(max_bytes) + " a " + (what.empty() ? "file" : what) +
                                 " may have");
}

}  // namespace gpt
