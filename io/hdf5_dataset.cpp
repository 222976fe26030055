// Datasets: chunked with the Fletcher32 filter on write, shape- and type-checked on read.
//
// Chunk shape: about 1 MiB per chunk, filled from the innermost dimension outward (a [V, C] matrix is
// chunked as [rows, C]), so a whole-dataset read touches few chunks and each chunk gets its own
// checksum. A dataset with a zero dimension has no data to chunk: its dimensions are made extendible
// (max = unlimited) so a 1-element chunk is legal, and it stays chunked + Fletcher32 like the rest.
#include <algorithm>
#include <stdexcept>

#include "io/hdf5_internal.h"

namespace gpt {

using namespace h5detail;

namespace {

constexpr hsize_t kChunkBytes = hsize_t{1} << 20;

std::vector<hsize_t> chunk_dims(const std::vector<hsize_t>& dims, size_t element_size) {
    std::vector<hsize_t> chunk(dims.size(), 1);
    hsize_t budget = std::max<hsize_t>(1, kChunkBytes / element_size);  // elements left for inner dims
    for (size_t i = dims.size(); i-- > 0;) {
        chunk[i] = std::max<hsize_t>(1, std::min(dims[i], budget));
        budget = std::max<hsize_t>(1, budget / chunk[i]);
    }
    return chunk;
}

std::string shape_text(const H5Shape& shape) {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
}

int64_t element_count(const H5Shape& shape) {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
}

// An open dataset with its shape, after checking that it exists and stores elements of type T.
struct OpenDataset {
    H5Id id;
    H5Shape shape;
};

// Only the storage this project writes is read back: chunked, Fletcher32-checksummed, inside the file.
// Virtual datasets (which may map onto other files or onto themselves: one recursed inside libhdf5 until
// the stack overflowed), external storage (whose "file" may be a FIFO), compact or contiguous data
// without a checksum and unknown filters are refused before a byte is read, naming the dataset.
void check_storage(hid_t dataset, const std::string& file, const std::string& where) {
    H5Id dcpl(check_id(H5Dget_create_plist(dataset), file, "dataset " + where, "cannot read its properties"));
    if (H5Pget_external_count(dcpl.get()) != 0)
        throw std::runtime_error(file + ": dataset " + where + ": stored in external files; refused");
    const H5D_layout_t layout = H5Pget_layout(dcpl.get());
    if (layout != H5D_CHUNKED)
        throw std::runtime_error(file + ": dataset " + where + ": " +
                                 (layout == H5D_VIRTUAL      ? "virtual"
                                  : layout == H5D_CONTIGUOUS ? "contiguous"
                                  : layout == H5D_COMPACT    ? "compact"
                                                             : "unknown") +
                                 " storage; checkpoints store every dataset chunked with a Fletcher32 checksum");
    const int filters = H5Pget_nfilters(dcpl.get());
    bool checksummed = false;
    for (int i = 0; i < filters; ++i) {
        unsigned flags = 0;
        size_t values = 0;
        const H5Z_filter_t filter = H5Pget_filter2(dcpl.get(), static_cast<unsigned>(i), &flags, &values, nullptr, 0,
                                                   nullptr, nullptr);
        if (filter != H5Z_FILTER_FLETCHER32)
            throw std::runtime_error(file + ": dataset " + where + ": filter " + std::to_string(filter) +
                                     " is not one checkpoints use (only Fletcher32)");
        checksummed = true;
    }
    if (!checksummed) throw std::runtime_error(file + ": dataset " + where + ": no Fletcher32 checksum; refused");
}

// A chunked dataset may declare any shape and leave its chunks unwritten (read back as fill values):
// the bytes it really stores bound what it may ask us to allocate.
void check_stored_size(hid_t dataset, const H5Shape& shape, size_t element_bytes, const std::string& file,
                       const std::string& where) {
    const int64_t n = element_count(shape);
    if (n == 0) return;
    const hsize_t stored = H5Dget_storage_size(dataset);
    if (static_cast<double>(stored) < static_cast<double>(n) * static_cast<double>(element_bytes))
        throw std::runtime_error(file + ": dataset " + where + ": shape " + shape_text(shape) + " needs " +
                                 std::to_string(static_cast<double>(n) * static_cast<double>(element_bytes)) +
                                 " bytes but the file stores " + std::to_string(stored) +
                                 " (unwritten chunks or a forged shape)");
}

template <class T>
OpenDataset open_dataset(hid_t loc, const H5Group& group, const std::string& name, const std::string& where) {
    const std::string& file = group.file_name();
    if (!group.exists(name)) throw std::runtime_error(file + ": dataset " + where + ": not found");
    if (!group.is_dataset(name)) throw std::runtime_error(file + ": " + where + ": not a dataset");
    H5Id dataset(check_id(H5Dopen2(loc, name.c_str(), H5P_DEFAULT), file, "dataset " + where, "cannot open"));
    check_storage(dataset.get(), file, where);
    H5Id type(check_id(H5Dget_type(dataset.get()), file, "dataset " + where, "cannot read its type"));
    const hid_t want = TypeInfo<T>::memory();
    if (H5Tget_class(type.get()) != H5Tget_class(want) || H5Tget_size(type.get()) != H5Tget_size(want) ||
        (H5Tget_class(want) == H5T_INTEGER && H5Tget_sign(type.get()) != H5Tget_sign(want)))
        throw std::runtime_error(file + ": dataset " + where + ": stored as " + type_name(type.get()) +
                                 ", expected " + TypeInfo<T>::name);
    H5Id space(check_id(H5Dget_space(dataset.get()), file, "dataset " + where, "cannot read its shape"));
    const int rank = H5Sget_simple_extent_ndims(space.get());
    if (rank < 0) fail(file, "dataset " + where, "cannot read its shape");
    std::vector<hsize_t> dims(static_cast<size_t>(rank));
    if (H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr) < 0)
        fail(file, "dataset " + where, "cannot read its shape");
    H5Shape shape(dims.begin(), dims.end());
    check_stored_size(dataset.get(), shape, sizeof(T), file, where);
    return {std::move(dataset), std::move(shape)};
}

template <class T>
void read_values(const OpenDataset& dataset, const std::string& file, const std::string& where, T* out) {
    if (element_count(dataset.shape) == 0) return;
    check_status(H5Dread(dataset.id.get(), TypeInfo<T>::memory(), H5S_ALL, H5S_ALL, H5P_DEFAULT, out), file,
                 "dataset " + where, "checksum mismatch or read error");
}

}  // namespace

template <class T>
void H5Group::write(const std::string& name, const H5Shape& shape, const T* values) const {
    const std::string where = full_path(name);
    if (shape.empty())
        throw std::invalid_argument(file_ + ": dataset " + where +
                                    ": rank-0 datasets are not written (store a scalar as an attribute)");
    for (int64_t d : shape)
        if (d < 0) throw std::invalid_argument(file_ + ": dataset " + where + ": negative dimension in " + shape_text(shape));
    const int64_t n = element_count(shape);
    if (n > 0 && values == nullptr)
        throw std::invalid_argument(file_ + ": dataset " + where + ": no data for shape " + shape_text(shape));
    if (exists(name)) throw std::runtime_error(file_ + ": dataset " + where + ": already exists");

    const std::vector<hsize_t> dims(shape.begin(), shape.end());
    std::vector<hsize_t> max_dims = dims;
    if (n == 0) max_dims.assign(dims.size(), H5S_UNLIMITED);
    const int rank = static_cast<int>(dims.size());
    H5Id space(check_id(H5Screate_simple(rank, dims.data(), max_dims.data()), file_, "dataset " + where,
                        "cannot create dataspace"));
    H5Id dcpl(check_id(H5Pcreate(H5P_DATASET_CREATE), file_, "dataset " + where, "cannot create properties"));
    const std::vector<hsize_t> chunk = chunk_dims(dims, sizeof(T));
    check_status(H5Pset_chunk(dcpl.get(), rank, chunk.data()), file_, "dataset " + where, "cannot set chunking");
    check_status(H5Pset_fletcher32(dcpl.get()), file_, "dataset " + where, "cannot set Fletcher32 filter");
    check_status(H5Pset_obj_track_times(dcpl.get(), 0), file_, "dataset " + where, "cannot unset timestamps");
    H5Id lcpl = intermediate_lcpl();
    H5Id dataset(check_id(H5Dcreate2(id_.get(), name.c_str(), TypeInfo<T>::file(), space.get(), lcpl.get(),
                                     dcpl.get(), H5P_DEFAULT),
                          file_, "dataset " + where, "cannot create"));
    if (n > 0)
        check_status(H5Dwrite(dataset.get(), TypeInfo<T>::memory(), H5S_ALL, H5S_ALL, H5P_DEFAULT, values), file_,
                     "dataset " + where, "write failed (disk full?)");
}

H5Shape H5Group::dataset_shape(const std::string& name) const {
    const std::string where = full_path(name);
    if (!is_dataset(name)) throw std::runtime_error(file_ + ": dataset " + where + ": not found");
    H5Id dataset(check_id(H5Dopen2(id_.get(), name.c_str(), H5P_DEFAULT), file_, "dataset " + where, "cannot open"));
    H5Id space(check_id(H5Dget_space(dataset.get()), file_, "dataset " + where, "cannot read its shape"));
    const int rank = H5Sget_simple_extent_ndims(space.get());
    if (rank < 0) fail(file_, "dataset " + where, "cannot read its shape");
    std::vector<hsize_t> dims(static_cast<size_t>(rank));
    if (H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr) < 0)
        fail(file_, "dataset " + where, "cannot read its shape");
    return H5Shape(dims.begin(), dims.end());
}

template <class T>
H5Array<T> H5Group::read(const std::string& name) const {
    const std::string where = full_path(name);
    OpenDataset dataset = open_dataset<T>(id_.get(), *this, name, where);
    H5Array<T> out{dataset.shape, std::vector<T>(static_cast<size_t>(element_count(dataset.shape)))};
    read_values(dataset, file_, where, out.values.data());
    return out;
}

template <class T>
std::vector<T> H5Group::read(const std::string& name, const H5Shape& expected) const {
    std::vector<T> values(static_cast<size_t>(element_count(expected)));
    read_into(name, expected, values.data());
    return values;
}

template <class T>
void H5Group::read_into(const std::string& name, const H5Shape& expected, T* out) const {
    const std::string where = full_path(name);
    OpenDataset dataset = open_dataset<T>(id_.get(), *this, name, where);
    if (dataset.shape != expected)
        throw std::runtime_error(file_ + ": dataset " + where + ": shape " + shape_text(dataset.shape) +
                                 " in the file, expected " + shape_text(expected));
    read_values(dataset, file_, where, out);
}

#define GPT_H5_INSTANTIATE(T)                                                                   \
    template void H5Group::write<T>(const std::string&, const H5Shape&, const T*) const;        \
    template H5Array<T> H5Group::read<T>(const std::string&) const;                             \
    template std::vector<T> H5Group::read<T>(const std::string&, const H5Shape&) const;         \
    template void H5Group::read_into<T>(const std::string&, const H5Shape&, T*) const;
GPT_H5_INSTANTIATE(float)
GPT_H5_INSTANTIATE(int32_t)
GPT_H5_INSTANTIATE(int64_t)
GPT_H5_INSTANTIATE(uint8_t)
GPT_H5_INSTANTIATE(uint64_t)
#undef GPT_H5_INSTANTIATE

}  // namespace gpt
