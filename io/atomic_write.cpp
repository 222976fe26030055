// Atomic replacement of a file: write PATH.tmp beside it, make its bytes durable, then rename.
//
// rename(2) within one filesystem replaces the directory entry in one step, so a reader (or a crash,
// kill -9, power loss) sees either the old file or the complete new one, never a partial file:
//   1. write PATH.tmp: an HDF5 file through the checked driver (io/hdf5_checked_file.cpp: HDF5 writes
//      each dataset from its own buffer, chunk by chunk, and never sees a failed write, so a full disk
//      cannot make an HDF5 close fail: libhdf5 1.10.8 crashes at exit after one, see io/hdf5.h), or
//      plain bytes with a write(2) loop
//   2. fsync PATH.tmp             the data is on disk before the name points at it
//   3. rename(PATH.tmp, PATH)     the switch
//   4. fsync(folder)              the new directory entry itself is on disk
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string_view>
#include <vector>

#include "io/atomic_write.h"
#include "io/hdf5.h"

namespace gpt {

namespace {

void fsync_path(const std::string& path, int flags, const char* what) {
    const int fd = ::open(path.c_str(), flags);
    if (fd < 0) throw std::runtime_error(path + ": cannot open for fsync: " + std::strerror(errno));
    const int synced = ::fsync(fd);
    const int sync_errno = errno;
    ::close(fd);
    if (synced != 0) throw std::runtime_error(path + ": fsync of the " + what + " failed: " + std::strerror(sync_errno));
}

// write(2) until done; a short write (disk full, RLIMIT_FSIZE) is an error with errno's message.
void write_file_synced(const std::string& path, std::string_view bytes) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) throw std::runtime_error(path + ": cannot create (is the folder writable?): " + std::strerror(errno));
    size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            const int write_errno = n < 0 ? errno : ENOSPC;
            ::close(fd);
            throw std::runtime_error(path + ": write failed after " + std::to_string(done) + " of " +
                                     std::to_string(bytes.size()) + " bytes: " + std::strerror(write_errno));
        }
        done += static_cast<size_t>(n);
    }
    const int synced = ::fsync(fd);
    const int sync_errno = errno;
    const int closed = ::close(fd);
    if (synced != 0) throw std::runtime_error(path + ": fsync of the file failed: " + std::strerror(sync_errno));
    if (closed != 0) throw std::runtime_error(path + ": close failed: " + std::strerror(errno));
}

std::string folder_of(const std::string& path) {
    const std::filesystem::path parent = std::filesystem::path(path).parent_path();
    return parent.empty() ? "." : parent.string();
}

}  // namespace

void write_atomically(const std::string& path, const std::function<void(H5File&)>& fill) {
    const std::string tmp = path + ".tmp";
    try {
        {
            H5File file = H5File::create_checked(tmp);
            fill(file);
            file.close_checked();  // the first failed write, if any, is thrown here; then fsync
        }
        if (std::rename(tmp.c_str(), path.c_str()) != 0)
            throw std::runtime_error(tmp + ": cannot rename to " + path + ": " + std::strerror(errno));
    } catch (const std::exception& e) {
        std::remove(tmp.c_str());
        throw std::runtime_error(path + ": save failed, the previous file at " + path + " is untouched: " + e.what());
    }
    // The new file is in place; only the durability of its directory entry is left to secure.
    try {
        fsync_path(folder_of(path), O_RDONLY | O_DIRECTORY, "folder");
    } catch (const std::exception& e) {
        throw std::runtime_error(path + ": saved, but syncing its folder failed (the new file may not survive a "
                                 "power loss): " + e.what());
    }
}

void write_bytes_atomically(const std::string& path, std::string_view bytes) {
    const std::string tmp = path + ".tmp";
    try {
        write_file_synced(tmp, bytes);
        if (std::rename(tmp.c_str(), path.c_str()) != 0)
            throw std::runtime_error(tmp + ": cannot rename to " + path + ": " + std::strerror(errno));
    } catch (...) {
        std::remove(tmp.c_str());
        throw;
    }
    fsync_path(folder_of(path), O_RDONLY | O_DIRECTORY, "folder");
}

}  // namespace gpt
