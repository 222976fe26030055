// A thin RAII wrapper over the HDF5 C API, used by the checkpoint code (train/) and nothing else.
//
// Conventions every file written here follows (docs/checkpoint_format.md):
//   - file format bounds 1.10..latest (H5Pset_libver_bounds), so object headers, B-trees and the
//     superblock carry checksums: corrupted metadata is refused on open or on access;
//   - every dataset is chunked with the Fletcher32 filter, so corrupted data is refused on read;
//   - string attributes are fixed-length (their bytes live in the checksummed object header, unlike
//     variable-length strings, whose bytes sit in the unchecksummed global heap);
//   - no object timestamps, so the same content gives the same bytes.
// HDF5's automatic error printing is switched off; every failure becomes one std::runtime_error line
// naming the file and the object, e.g. "ckpt.h5: dataset /model/wte.weight: checksum mismatch or read
// error (HDF5: ...)".
//
// Element types: float (float32), int32_t, int64_t, uint8_t, uint64_t. Datasets have rank >= 1
// (store a scalar as an attribute); a dimension may be 0.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace gpt {

using H5Shape = std::vector<int64_t>;  // same type as gpt::Shape; io/ does not depend on autograd/

// One HDF5 identifier of any kind (file, group, dataset, dataspace, type, property list, attribute),
// released in the destructor. Move-only. 64-bit as hid_t is since HDF5 1.10.
class H5Id {
public:
    H5Id() = default;
    explicit H5Id(int64_t id) : id_(id) {}
    ~H5Id() { reset(); }
    H5Id(H5Id&& other) noexcept : id_(other.id_) { other.id_ = -1; }
    H5Id& operator=(H5Id&& other) noexcept;
    H5Id(const H5Id&) = delete;
    H5Id& operator=(const H5Id&) = delete;

    int64_t get() const { return id_; }
    bool valid() const;
    void reset();  // releases now; quietly does nothing for an id already closed with its file

private:
    int64_t id_ = -1;
};

template <class T>
struct H5Array {
    H5Shape shape;
    std::vector<T> values;  // row-major, shape's product elements
};

// A group: the root of a file or any group below it. Names given to its methods are relative paths
// ("m/wte.weight") or absolute ones ("/optimizer/m").
class H5Group {
public:
    const std::string& file_name() const { return file_; }
    const std::string& path() const { return path_; }  // "/", "/optimizer/m"

    // Groups. create_group makes the missing intermediate groups and throws if the group exists.
    H5Group create_group(const std::string& name) const;
    H5Group open_group(const std::string& name) const;
    H5Group require_group(const std::string& name) const;  // open, or create when absent
    bool exists(const std::string& name) const;             // any object; false when a parent is missing
    bool is_group(const std::string& name) const;           // exists and is a group
    bool is_dataset(const std::string& name) const;         // exists and is a dataset
    std::vector<std::string> list() const;                  // direct members, in name order
    // Number of direct members, read from the group's link-info message (H5Gget_info) without walking
    // the links: walking a damaged dense group crashes libhdf5 1.10.8 (docs/reliability.md).
    std::size_t member_count() const;

    // Datasets (chunked, Fletcher32). write throws if the name exists; missing parent groups are created.
    template <class T>
    void write(const std::string& name, const H5Shape& shape, const T* values) const;
    template <class T>
    void write(const std::string& name, const std::vector<T>& values) const {  // 1-D
        write(name, H5Shape{static_cast<int64_t>(values.size())}, values.data());
    }
    H5Shape dataset_shape(const std::string& name) const;
    template <class T>
    H5Array<T> read(const std::string& name) const;
    // Throws naming the dataset and both shapes when the stored shape differs from `expected`.
    template <class T>
    std::vector<T> read(const std::string& name, const H5Shape& expected) const;
    template <class T>
    void read_into(const std::string& name, const H5Shape& expected, T* out) const;  // out: product(expected)

    // Attributes on this group (on the root group: the file's attributes). Setting replaces.
    void set_attr_int(const std::string& name, int64_t value) const;
    void set_attr_double(const std::string& name, double value) const;
    void set_attr_string(const std::string& name, const std::string& value) const;
    bool has_attr(const std::string& name) const;
    int64_t attr_int(const std::string& name) const;        // any stored integer type
    double attr_double(const std::string& name) const;      // any stored float or integer type
    std::string attr_string(const std::string& name) const;  // fixed or variable length
    std::vector<std::string> attr_names() const;             // in name order

protected:
    H5Group(H5Id id, std::string file, std::string path)
        : id_(std::move(id)), file_(std::move(file)), path_(std::move(path)) {}
    std::string full_path(const std::string& name) const;

    H5Id id_;
    std::string file_;
    std::string path_;
};

// The disk side of a file made by H5File::create_checked (io/hdf5_checked_file.cpp).
struct CheckedSink;

// A file; as a group it is the root "/". Closing (explicit or in the destructor) closes every object
// still open in it.
class H5File : public H5Group {
public:
    static H5File create(const std::string& path);     // truncates an existing file
    static H5File open_read(const std::string& path);  // read-only; clear errors for missing/non-HDF5/truncated
    // A new file (an existing one is truncated) whose bytes go to disk through the project's own HDF5 file
    // driver (io/hdf5_checked_file.cpp): every write(2) is checked there, and the first one that fails
    // (disk full, file-size limit) is recorded instead of being reported to HDF5, which then writes
    // nothing more; so no HDF5 call on the file, its close included, can fail for lack of space.
    // close_checked() closes it, throws the recorded failure if there was one (naming the file, the
    // offset and errno's message), and fsyncs it. HDF5 writes each dataset's chunks from the caller's
    // buffer as it goes: the file is never held in memory.
    static H5File create_checked(const std::string& path);
    void close_checked();
    ~H5File();
    H5File(H5File&&) noexcept;
    H5File& operator=(H5File&&) noexcept;

    // Flushes and closes, throwing if either fails (a full disk shows up here). Later use throws.
    void close();

private:
    H5File(H5Id file, H5Id root, const std::string& path);
    static H5File create_with(const std::string& path, H5Id fapl);
    // Checked files: the file descriptor and the first failed write. Declared before file_id_ so that it
    // outlives the file's close (whose last writes go through it).
    std::unique_ptr<CheckedSink> sink_;
    H5Id file_id_;  // a member, so released before the base's root-group id: closing the file closes all
};

// Writes `path` atomically: `fill` writes the file as path + ".tmp" (same folder; H5File::create_checked),
// which is closed, fsync'ed and renamed over `path`, then the folder is fsync'ed. On any failure the
// temporary file is removed and the error says that the previous file at `path` is untouched; a crash
// leaves at worst a stale path + ".tmp", never a partial file under `path`.
// Why a driver of our own: libhdf5 1.10.8 cannot survive a failed close. When H5Fclose's flush fails
// (disk full), H5F__dest frees the file's structures but H5I keeps the id, whose free callback then runs
// again on the freed memory at exit (H5_term_library → H5F__close_cb: a segfault). With the checked
// driver HDF5 never sees a failed write: the failure is ours to report, after a clean close. (Before,
// the file was built in memory with the core driver and written afterwards, which held the whole file,
// 1.6 GB for GPT-2 124M with its AdamW moments, in memory while it was saved.)
void write_atomically(const std::string& path, const std::function<void(H5File&)>& fill);

}  // namespace gpt
