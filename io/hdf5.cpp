// Files, groups and the error plumbing of the HDF5 wrapper (datasets: hdf5_dataset.cpp, attributes:
// hdf5_attribute.cpp, atomic save: atomic_write.cpp).
#include <filesystem>
#include <stdexcept>

#include "common/regular_file.h"
#include "io/hdf5_internal.h"

namespace gpt {

using namespace h5detail;

// ---- errors -----------------------------------------------------------------------------------

namespace h5detail {

// libhdf5's automatic error printing is a per-thread setting in the thread-safe build (Debian's), so it is
// switched off once in every thread that opens a file (gpt serve loads checkpoints in its worker threads).
void quiet_errors() {
    thread_local const bool done = [] {
        H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
        return true;
    }();
    (void)done;
}

std::string error_detail() {
    std::string detail;
    // Walking upward starts at the most specific error (where it was detected), which is the one that
    // says what went wrong ("data error detected by Fletcher32 checksum"); we keep that first one.
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD,
             [](unsigned n, const H5E_error2_t* err, void* out) -> herr_t {
                 if (n == 0 && err->desc) *static_cast<std::string*>(out) = err->desc;
                 return 0;
             },
             &detail);
    H5Eclear2(H5E_DEFAULT);
    // Some descriptions span lines ("file write failed: time = ...\n, filename = ..."): keep ours one line.
    std::string line;
    for (char c : detail) {
        if (c == '\n' || c == '\r') c = ' ';
        if (c == ' ' && !line.empty() && line.back() == ' ') continue;
        line += c;
    }
    return line;
}

void fail(const std::string& file, const std::string& what, const std::string& problem) {
    std::string detail = error_detail();
    std::string message = file + ": " + what + ": " + problem;
    if (!detail.empty()) message += " (HDF5: " + detail + ")";
    throw std::runtime_error(message);
}

hid_t check_id(hid_t id, const std::string& file, const std::string& what, const std::string& problem) {
    if (id < 0) fail(file, what, problem);
    return id;
}

void check_status(herr_t status, const std::string& file, const std::string& what, const std::string& problem) {
    if (status < 0) fail(file, what, problem);
}

std::string join_path(const std::string& base, const std::string& name) {
    if (!name.empty() && name[0] == '/') return name;
    if (base == "/") return "/" + name;
    return base + "/" + name;
}

H5Id intermediate_lcpl() {
    H5Id lcpl(H5Pcreate(H5P_LINK_CREATE));
    H5Pset_create_intermediate_group(lcpl.get(), 1);
    return lcpl;
}

std::string type_name(hid_t type) {
    const H5T_class_t cls = H5Tget_class(type);
    const size_t size = H5Tget_size(type);
    if (cls == H5T_FLOAT) return size == 4 ? "float32" : size == 8 ? "float64" : "float" + std::to_string(8 * size);
    if (cls == H5T_INTEGER) {
        const bool is_signed = H5Tget_sign(type) == H5T_SGN_2;
        return std::string(is_signed ? "int" : "uint") + std::to_string(8 * size);
    }
    if (cls == H5T_STRING) return "string";
    return "other";
}

}  // namespace h5detail

// ---- H5Id -------------------------------------------------------------------------------------

H5Id& H5Id::operator=(H5Id&& other) noexcept {
    if (this != &other) {
        reset();
        id_ = other.id_;
        other.id_ = -1;
    }
    return *this;
}

bool H5Id::valid() const { return id_ >= 0 && H5Iis_valid(id_) > 0; }

void H5Id::reset() {
    // An id can already be gone: closing a file (strong close degree) closes the objects opened in it.
    if (valid()) H5Idec_ref(id_);
    id_ = -1;
}

// ---- files ------------------------------------------------------------------------------------

H5File::H5File(H5Id file, H5Id root, const std::string& path)
    : H5Group(std::move(root), path, "/"), file_id_(std::move(file)) {}

H5Id h5detail::file_access_properties(const std::string& path) {
    H5Id fapl(check_id(H5Pcreate(H5P_FILE_ACCESS), path, "file", "cannot create access properties"));
    // 1.10 format: checksummed superblock, object headers and indexes.
    check_status(H5Pset_libver_bounds(fapl.get(), H5F_LIBVER_V110, H5F_LIBVER_LATEST), path, "file",
                 "cannot set format bounds");
    // Closing the file closes every object still open in it, so close() really releases the file.
    check_status(H5Pset_fclose_degree(fapl.get(), H5F_CLOSE_STRONG), path, "file", "cannot set close degree");
    return fapl;
}

H5File H5File::create(const std::string& path) {
    quiet_errors();
    return create_with(path, file_access_properties(path));
}

H5File H5File::create_with(const std::string& path, H5Id fapl) {
    H5Id fcpl(check_id(H5Pcreate(H5P_FILE_CREATE), path, "file", "cannot create creation properties"));
    // No timestamp on the root group either: the same content gives the same bytes.
    check_status(H5Pset_obj_track_times(fcpl.get(), 0), path, "file", "cannot unset timestamps");
    H5Id file(check_id(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, fcpl.get(), fapl.get()), path, "file",
                       "cannot create (is the folder writable?)"));
    H5Id root(check_id(H5Gopen2(file.get(), "/", H5P_DEFAULT), path, "group /", "cannot open"));
    return H5File(std::move(file), std::move(root), path);
}

H5File H5File::open_read(const std::string& path) {
    quiet_errors();
    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    if (!std::filesystem::exists(status)) throw std::runtime_error(path + ": no such file");
    if (std::filesystem::is_directory(status)) throw std::runtime_error(path + ": is a directory, not an HDF5 file");
    require_regular_file(path, "");  // a FIFO or device would block or never end inside libhdf5
    const htri_t is_hdf5 = H5Fis_hdf5(path.c_str());
    if (is_hdf5 == 0) {
        H5Eclear2(H5E_DEFAULT);
        throw std::runtime_error(path + ": not an HDF5 file (no HDF5 signature)");
    }
    if (is_hdf5 < 0) fail(path, "file", "cannot read");
    H5Id fapl = file_access_properties(path);
    H5Id file(check_id(H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl.get()), path, "file",
                       "cannot open: truncated or corrupted HDF5 file"));
    H5Id root(check_id(H5Gopen2(file.get(), "/", H5P_DEFAULT), path, "group /",
                       "cannot open: corrupted HDF5 file"));
    return H5File(std::move(file), std::move(root), path);
}

void H5File::close() {
    if (!file_id_.valid()) return;
    // Moved out first: whatever happens below, this object no longer holds the file (the local's
    // destructor releases an id that a failed H5Fclose left open).
    H5Id file = std::move(file_id_);
    check_status(H5Fflush(file.get(), H5F_SCOPE_GLOBAL), file_, "file", "cannot flush (disk full?)");
    id_.reset();
    check_status(H5Fclose(file.get()), file_, "file", "cannot close (disk full?)");
}

// ---- groups -----------------------------------------------------------------------------------

std::string H5Group::full_path(const std::string& name) const { return join_path(path_, name); }

H5Group H5Group::create_group(const std::string& name) const {
    const std::string where = full_path(name);
    if (exists(name)) throw std::runtime_error(file_ + ": group " + where + ": already exists");
    H5Id lcpl = intermediate_lcpl();
    H5Id gcpl(H5Pcreate(H5P_GROUP_CREATE));
    H5Pset_obj_track_times(gcpl.get(), 0);
    H5Id group(check_id(H5Gcreate2(id_.get(), name.c_str(), lcpl.get(), gcpl.get(), H5P_DEFAULT), file_,
                        "group " + where, "cannot create"));
    return H5Group(std::move(group), file_, where);
}

H5Group H5Group::open_group(const std::string& name) const {
    const std::string where = full_path(name);
    if (!exists(name)) throw std::runtime_error(file_ + ": group " + where + ": not found");
    if (!is_group(name)) throw std::runtime_error(file_ + ": " + where + ": not a group");
    H5Id group(check_id(H5Gopen2(id_.get(), name.c_str(), H5P_DEFAULT), file_, "group " + where, "cannot open"));
    return H5Group(std::move(group), file_, where);
}

H5Group H5Group::require_group(const std::string& name) const {
    return exists(name) ? open_group(name) : create_group(name);
}

bool H5Group::exists(const std::string& name) const {
    // H5Lexists fails (rather than answering false) when an intermediate group is missing: walk the path.
    std::string prefix = name.starts_with('/') ? "/" : "";
    size_t start = prefix.size();
    while (start <= name.size()) {
        size_t slash = name.find('/', start);
        if (slash == std::string::npos) slash = name.size();
        if (slash > start) {
            prefix += name.substr(start, slash - start);
            const htri_t found = H5Lexists(id_.get(), prefix.c_str(), H5P_DEFAULT);
            if (found < 0) fail(file_, full_path(prefix), "cannot look up");
            if (found == 0) return false;
            prefix += "/";
        }
        start = slash + 1;
    }
    return true;
}

static H5I_type_t object_type(hid_t loc, const std::string& name) {
    H5Id object(H5Oopen(loc, name.c_str(), H5P_DEFAULT));
    if (object.get() < 0) return H5I_BADID;
    return H5Iget_type(object.get());
}

bool H5Group::is_group(const std::string& name) const {
    return exists(name) && object_type(id_.get(), name) == H5I_GROUP;
}

bool H5Group::is_dataset(const std::string& name) const {
    return exists(name) && object_type(id_.get(), name) == H5I_DATASET;
}

std::vector<std::string> H5Group::list() const {
    std::vector<std::string> names;
    const herr_t status = H5Literate(
        id_.get(), H5_INDEX_NAME, H5_ITER_INC, nullptr,
        [](hid_t, const char* name, const H5L_info_t*, void* out) -> herr_t {
            static_cast<std::vector<std::string>*>(out)->emplace_back(name);
            return 0;
        },
        &names);
    check_status(status, file_, "group " + path_, "cannot list members");
    return names;
}

std::size_t H5Group::member_count() const {
    H5G_info_t info{};
    check_status(H5Gget_info(id_.get(), &info), file_, "group " + path_, "cannot count members");
    return static_cast<std::size_t>(info.nlinks);
}

}  // namespace gpt
