// Helpers shared by io/hdf5*.cpp (not part of the public API): error messages, quiet error stack,
// HDF5 type mapping.
#pragma once

// CMakeLists.txt gives gpt_io the HDF5 include folder as INTERFACE only (for its users), so gpt_io's own
// sources may not see <hdf5.h>; Debian keeps it under hdf5/serial/.
#if __has_include(<hdf5.h>)
#include <hdf5.h>
#else
#include <hdf5/serial/hdf5.h>
#endif

#include <cstdint>
#include <cstdlib>
#include <string>
#include <type_traits>

#include "io/hdf5.h"

namespace gpt {

// The disk side of a checked file (H5File::create_checked, io/hdf5_checked_file.cpp): the descriptor the
// driver writes through and the first write that failed.
struct CheckedSink {
    std::string path;
    int fd = -1;
    int error = 0;                // errno of the first failed write or truncation; 0: none
    std::uint64_t error_at = 0;   // the byte offset it failed at
    ~CheckedSink();
};

}  // namespace gpt

namespace gpt::h5detail {

static_assert(std::is_same_v<hid_t, int64_t>, "io/hdf5.h stores hid_t as int64_t (HDF5 >= 1.10)");

// Switches off HDF5's automatic printing of its error stack (we report our own one-line messages).
void quiet_errors();

// The most specific description on HDF5's current error stack, "" if none.
std::string error_detail();

// Throws std::runtime_error("<file>: <what>: <problem> (HDF5: <detail>)").
[[noreturn]] void fail(const std::string& file, const std::string& what, const std::string& problem);

// Returns `id` when >= 0, else fails with the message above.
hid_t check_id(hid_t id, const std::string& file, const std::string& what, const std::string& problem);
void check_status(herr_t status, const std::string& file, const std::string& what, const std::string& problem);

// "/a" + "b" → "/a/b"; an absolute name stays as it is.
std::string join_path(const std::string& base, const std::string& name);

// File access properties every file of the project is opened with (1.10 format, strong close).
H5Id file_access_properties(const std::string& path);

// Link creation properties that create missing intermediate groups.
H5Id intermediate_lcpl();

// Memory type and a name for messages, per element type.
template <class T>
struct TypeInfo;
template <>
struct TypeInfo<float> {
    static hid_t memory() { return H5T_NATIVE_FLOAT; }
    static hid_t file() { return H5T_IEEE_F32LE; }
    static constexpr const char* name = "float32";
};
template <>
struct TypeInfo<int32_t> {
    static hid_t memory() { return H5T_NATIVE_INT32; }
    static hid_t file() { return H5T_STD_I32LE; }
    static constexpr const char* name = "int32";
};
template <>
struct TypeInfo<int64_t> {
    static hid_t memory() { return H5T_NATIVE_INT64; }
    static hid_t file() { return H5T_STD_I64LE; }
    static constexpr const char* name = "int64";
};
template <>
struct TypeInfo<uint8_t> {
    static hid_t memory() { return H5T_NATIVE_UINT8; }
    static hid_t file() { return H5T_STD_U8LE; }
    static constexpr const char* name = "uint8";
};
template <>
struct TypeInfo<uint64_t> {
    static hid_t memory() { return H5T_NATIVE_UINT64; }
    static hid_t file() { return H5T_STD_U64LE; }
    static constexpr const char* name = "uint64";
};

// "float32", "int64", ... for a stored type (for messages), "other" when none of ours.
std::string type_name(hid_t type);

}  // namespace gpt::h5detail
