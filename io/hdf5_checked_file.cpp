// Checked files (H5File::create_checked): an HDF5 file driver of our own that writes straight to a file
// descriptor and never reports a failed write to HDF5.
//
// Why: libhdf5 1.10.8 crashes at exit after a failed H5Fclose (io/hdf5.h, write_atomically), and a full
// disk makes the close's flush fail with any of its disk drivers. The core driver (the file built in
// memory, written by us afterwards) avoided that at the cost of holding the whole file in memory; this
// driver avoids it with no copy: HDF5 writes each chunk as it filters it, the driver pwrite(2)s it at
// once. The first write that fails is recorded (errno, offset) and every later write is dropped, each
// reported to HDF5 as done, so the file still closes cleanly; close_checked() then throws the recorded
// failure. The file under that name is incomplete then, which is why write_atomically writes PATH.tmp and
// removes it on failure.
//
// HDF5 may read back what it wrote (metadata evicted from its cache; rare while a new file is written):
// reads go to the file; bytes never written (past the end, or dropped after a failure) read as zeros, as
// with the sec2 driver. After a failure nothing read back is used: the file is removed.
//
// The core driver's feature flags (metadata aggregation and accumulation, data sieving, small-data
// aggregation), so files are laid out as before (a small checkpoint came out byte for byte the same;
// in larger ones HDF5 may place some metadata elsewhere). The same content gives the same bytes: a
// region HDF5 allocates and never writes is a hole (zeros), as the core driver's zero-filled buffer
// gave, and the file is cut (or extended) to HDF5's end of allocation when it closes.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <memory>
#include <stdexcept>

#include "io/hdf5_internal.h"

namespace gpt {

using namespace h5detail;

CheckedSink::~CheckedSink() {
    if (fd >= 0) ::close(fd);
}

namespace {

// What the file access property list carries to the driver's open: the sink of the file being created.
struct DriverInfo {
    CheckedSink* sink;
};

// The driver's per-file state; HDF5 sees the H5FD_t at its start.
struct CheckedDriverFile {
    H5FD_t pub;
    CheckedSink* sink;
    haddr_t eoa;  // end of allocation, HDF5's
    haddr_t eof;  // end of the file's bytes: the largest end written (or truncated to)
};

CheckedDriverFile* as_checked(const H5FD_t* file) {
    return reinterpret_cast<CheckedDriverFile*>(const_cast<H5FD_t*>(file));
}

void record_failure(CheckedSink& sink, int error, haddr_t at) {
    if (sink.error != 0) return;
    sink.error = error;
    sink.error_at = at;
}

H5FD_t* checked_open(const char*, unsigned, hid_t fapl, haddr_t maxaddr) {
    const auto* info = static_cast<const DriverInfo*>(H5Pget_driver_info(fapl));
    if (info == nullptr || info->sink == nullptr || info->sink->fd < 0) return nullptr;
    if (maxaddr == 0 || maxaddr == HADDR_UNDEF) maxaddr = static_cast<haddr_t>(INT64_MAX);
    struct stat status {};
    if (::fstat(info->sink->fd, &status) != 0) return nullptr;
    auto* file = static_cast<CheckedDriverFile*>(std::calloc(1, sizeof(CheckedDriverFile)));
    if (file == nullptr) return nullptr;
    file->sink = info->sink;
    file->eoa = 0;
    file->eof = static_cast<haddr_t>(status.st_size);
    return &file->pub;
}

herr_t checked_close(H5FD_t* file) {
    std::free(as_checked(file));  // the descriptor is the sink's: closed by close_checked or ~CheckedSink
    return 0;
}

// Files are the same when they write through the same sink (HDF5 asks when it opens a file).
int checked_cmp(const H5FD_t* a, const H5FD_t* b) {
    const CheckedSink* x = as_checked(a)->sink;
    const CheckedSink* y = as_checked(b)->sink;
    return x < y ? -1 : x > y ? 1 : 0;
}

herr_t checked_query(const H5FD_t*, unsigned long* flags) {
    if (flags)
        *flags = H5FD_FEAT_AGGREGATE_METADATA | H5FD_FEAT_ACCUMULATE_METADATA | H5FD_FEAT_DATA_SIEVE |
                 H5FD_FEAT_AGGREGATE_SMALLDATA;
    return 0;
}

haddr_t checked_get_eoa(const H5FD_t* file, H5FD_mem_t) { return as_checked(file)->eoa; }

herr_t checked_set_eoa(H5FD_t* file, H5FD_mem_t, haddr_t addr) {
    as_checked(file)->eoa = addr;
    return 0;
}

haddr_t checked_get_eof(const H5FD_t* file, H5FD_mem_t) { return as_checked(file)->eof; }

herr_t checked_get_handle(H5FD_t* file, hid_t, void** handle) {
    if (handle == nullptr) return -1;
    *handle = &as_checked(file)->sink->fd;
    return 0;
}

herr_t checked_read(H5FD_t* file, H5FD_mem_t, hid_t, haddr_t addr, size_t size, void* buffer) {
    const CheckedDriverFile* f = as_checked(file);
    auto* out = static_cast<unsigned char*>(buffer);
    size_t done = 0;
    while (done < size) {
        const ssize_t n = ::pread(f->sink->fd, out + done, size - done, static_cast<off_t>(addr + done));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return -1;  // a read error on the file being written: HDF5 reports it (no close fails)
        if (n == 0) break;     // past the end: zeros
        done += static_cast<size_t>(n);
    }
    std::memset(out + done, 0, size - done);
    return 0;
}

herr_t checked_write(H5FD_t* file, H5FD_mem_t, hid_t, haddr_t addr, size_t size, const void* buffer) {
    CheckedDriverFile* f = as_checked(file);
    f->eof = std::max(f->eof, addr + size);
    if (f->sink->error != 0) return 0;  // after a failure: dropped (the file will be removed)
    const auto* in = static_cast<const unsigned char*>(buffer);
    size_t done = 0;
    while (done < size) {
        const ssize_t n = ::pwrite(f->sink->fd, in + done, size - done, static_cast<off_t>(addr + done));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {  // 0 bytes written is a full disk too
            record_failure(*f->sink, n < 0 ? errno : ENOSPC, addr + done);
            return 0;
        }
        done += static_cast<size_t>(n);
    }
    return 0;
}

// On close: the file's length becomes HDF5's end of allocation (space allocated but never written is
// part of the file, as zeros).
herr_t checked_truncate(H5FD_t* file, hid_t, hbool_t) {
    CheckedDriverFile* f = as_checked(file);
    if (f->eoa == f->eof) return 0;
    if (f->sink->error == 0 && ::ftruncate(f->sink->fd, static_cast<off_t>(f->eoa)) != 0)
        record_failure(*f->sink, errno, f->eoa);
    f->eof = f->eoa;
    return 0;
}

H5FD_class_t checked_class() {
    H5FD_class_t c{};
    c.name = "gpt_checked";
    c.maxaddr = static_cast<haddr_t>(INT64_MAX);
    c.fc_degree = H5F_CLOSE_WEAK;  // as sec2's; the project's access properties ask for strong
    c.fapl_size = sizeof(DriverInfo);  // copied and freed by HDF5 itself (no fapl_copy, fapl_free)
    c.open = &checked_open;
    c.close = &checked_close;
    c.cmp = &checked_cmp;
    c.query = &checked_query;
    c.get_eoa = &checked_get_eoa;
    c.set_eoa = &checked_set_eoa;
    c.get_eof = &checked_get_eof;
    c.get_handle = &checked_get_handle;
    c.read = &checked_read;
    c.write = &checked_write;
    c.truncate = &checked_truncate;
    const H5FD_mem_t free_lists[H5FD_MEM_NTYPES] = H5FD_FLMAP_DICHOTOMY;  // as the sec2 and core drivers
    std::copy(std::begin(free_lists), std::end(free_lists), std::begin(c.fl_map));
    return c;
}

// Registered once per process (HDF5 keeps the class pointer: static storage).
hid_t checked_driver(const std::string& path) {
    static const H5FD_class_t cls = checked_class();
    static const hid_t id = H5FDregister(&cls);
    if (id < 0) fail(path, "file", "cannot register the checked file driver");
    return id;
}

}  // namespace

// Defined here, where CheckedSink is complete.
H5File::~H5File() = default;
H5File::H5File(H5File&&) noexcept = default;
H5File& H5File::operator=(H5File&&) noexcept = default;

H5File H5File::create_checked(const std::string& path) {
    quiet_errors();
    auto sink = std::make_unique<CheckedSink>();
    sink->path = path;
    sink->fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (sink->fd < 0) throw std::runtime_error(path + ": cannot create (is the folder writable?): " + std::strerror(errno));
    H5Id fapl = file_access_properties(path);
    const DriverInfo info{sink.get()};
    check_status(H5Pset_driver(fapl.get(), checked_driver(path), &info), path, "file",
                 "cannot select the checked file driver");
    H5File file = create_with(path, std::move(fapl));
    file.sink_ = std::move(sink);
    return file;
}

void H5File::close_checked() {
    if (!sink_ || !file_id_.valid()) fail(file_, "file", "close_checked needs an open checked file");
    close();  // no write failure reaches HDF5, so neither its flush nor its close fails for lack of space
    const std::unique_ptr<CheckedSink> sink = std::move(sink_);
    if (sink->error != 0)
        throw std::runtime_error(file_ + ": write failed at byte " + std::to_string(sink->error_at) + ": " +
                                 std::strerror(sink->error));
    if (::fsync(sink->fd) != 0) throw std::runtime_error(file_ + ": fsync of the file failed: " + std::strerror(errno));
    const int fd = sink->fd;
    sink->fd = -1;
    if (::close(fd) != 0) throw std::runtime_error(file_ + ": close failed: " + std::strerror(errno));
}

}  // namespace gpt
