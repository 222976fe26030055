// Atomic replacement of an HDF5 file: write PATH.tmp beside it, make its bytes durable, then rename.
//
// rename(2) within one filesystem replaces the directory entry in one step, so a reader (or a crash,
// kill -9, power loss) sees either the old file or the complete new one, never a partial file:
//   1. fill PATH.tmp, H5Fflush + H5Fclose (HDF5 has written everything, but maybe only to the page cache)
//   2. fsync(PATH.tmp)            the data is on disk before the name points at it
//   3. rename(PATH.tmp, PATH)     the switch
//   4. fsync(folder)              the new directory entry itself is on disk
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>

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

std::string folder_of(const std::string& path) {
    const std::filesystem::path parent = std::filesystem::path(path).parent_path();
    return parent.empty() ? "." : parent.string();
}

}  // namespace

void write_atomically(const std::string& path, const std::function<void(H5File&)>& fill) {
    const std::string tmp = path + ".tmp";
    try {
        {
            H5File file = H5File::create(tmp);
            fill(file);
            file.close();
        }
        fsync_path(tmp, O_RDONLY, "file");
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

}  // namespace gpt
