// Scalar attributes on groups (and so on files, via the root group): int64, double, string.
//
// Strings are written fixed-length, null-terminated, UTF-8: the bytes then live in the attribute
// message inside the checksummed object header. (A variable-length string keeps its bytes in the
// global heap, which carries no checksum.) Reading accepts both kinds, as h5py writes variable-length.
#include <cstring>
#include <stdexcept>

#include "io/hdf5_internal.h"

namespace gpt {

using namespace h5detail;

namespace {

// Creates (replacing any existing one) a scalar attribute of `file_type` and writes `value` as `memory_type`.
void write_attribute(hid_t loc, const std::string& file, const std::string& where, const std::string& name,
                     hid_t file_type, hid_t memory_type, const void* value) {
    const std::string what = "attribute " + where + "@" + name;
    const htri_t found = H5Aexists(loc, name.c_str());
    if (found < 0) fail(file, what, "cannot look up");
    if (found > 0) check_status(H5Adelete(loc, name.c_str()), file, what, "cannot replace");
    H5Id space(check_id(H5Screate(H5S_SCALAR), file, what, "cannot create dataspace"));
    H5Id attribute(check_id(H5Acreate2(loc, name.c_str(), file_type, space.get(), H5P_DEFAULT, H5P_DEFAULT), file,
                            what, "cannot create"));
    check_status(H5Awrite(attribute.get(), memory_type, value), file, what, "write failed");
}

struct OpenAttribute {
    H5Id id;
    H5Id type;
};

OpenAttribute open_attribute(hid_t loc, const std::string& file, const std::string& where, const std::string& name) {
    const std::string what = "attribute " + where + "@" + name;
    const htri_t found = H5Aexists(loc, name.c_str());
    if (found < 0) fail(file, what, "cannot look up");
    if (found == 0) throw std::runtime_error(file + ": " + what + ": not found");
    H5Id attribute(check_id(H5Aopen(loc, name.c_str(), H5P_DEFAULT), file, what, "cannot open"));
    H5Id space(check_id(H5Aget_space(attribute.get()), file, what, "cannot read its shape"));
    if (H5Sget_simple_extent_npoints(space.get()) != 1)
        throw std::runtime_error(file + ": " + what + ": not a single value");
    H5Id type(check_id(H5Aget_type(attribute.get()), file, what, "cannot read its type"));
    return {std::move(attribute), std::move(type)};
}

}  // namespace

void H5Group::set_attr_int(const std::string& name, int64_t value) const {
    write_attribute(id_.get(), file_, path_, name, H5T_STD_I64LE, H5T_NATIVE_INT64, &value);
}

void H5Group::set_attr_double(const std::string& name, double value) const {
    write_attribute(id_.get(), file_, path_, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &value);
}

void H5Group::set_attr_string(const std::string& name, const std::string& value) const {
    const std::string what = "attribute " + path_ + "@" + name;
    if (value.find('\0') != std::string::npos)
        throw std::invalid_argument(file_ + ": " + what + ": string attributes cannot hold NUL bytes");
    H5Id type(check_id(H5Tcopy(H5T_C_S1), file_, what, "cannot create string type"));
    check_status(H5Tset_size(type.get(), value.size() + 1), file_, what, "cannot set string size");
    check_status(H5Tset_strpad(type.get(), H5T_STR_NULLTERM), file_, what, "cannot set string padding");
    check_status(H5Tset_cset(type.get(), H5T_CSET_UTF8), file_, what, "cannot set character set");
    write_attribute(id_.get(), file_, path_, name, type.get(), type.get(), value.c_str());
}

bool H5Group::has_attr(const std::string& name) const {
    const htri_t found = H5Aexists(id_.get(), name.c_str());
    if (found < 0) fail(file_, "attribute " + path_ + "@" + name, "cannot look up");
    return found > 0;
}

int64_t H5Group::attr_int(const std::string& name) const {
    OpenAttribute attribute = open_attribute(id_.get(), file_, path_, name);
    const std::string what = "attribute " + path_ + "@" + name;
    if (H5Tget_class(attribute.type.get()) != H5T_INTEGER)
        throw std::runtime_error(file_ + ": " + what + ": stored as " + type_name(attribute.type.get()) +
                                 ", expected an integer");
    int64_t value = 0;
    check_status(H5Aread(attribute.id.get(), H5T_NATIVE_INT64, &value), file_, what, "read failed");
    return value;
}

double H5Group::attr_double(const std::string& name) const {
    OpenAttribute attribute = open_attribute(id_.get(), file_, path_, name);
    const std::string what = "attribute " + path_ + "@" + name;
    const H5T_class_t cls = H5Tget_class(attribute.type.get());
    if (cls != H5T_FLOAT && cls != H5T_INTEGER)
        throw std::runtime_error(file_ + ": " + what + ": stored as " + type_name(attribute.type.get()) +
                                 ", expected a number");
    double value = 0;
    check_status(H5Aread(attribute.id.get(), H5T_NATIVE_DOUBLE, &value), file_, what, "read failed");
    return value;
}

std::string H5Group::attr_string(const std::string& name) const {
    OpenAttribute attribute = open_attribute(id_.get(), file_, path_, name);
    const std::string what = "attribute " + path_ + "@" + name;
    const hid_t type = attribute.type.get();
    if (H5Tget_class(type) != H5T_STRING)
        throw std::runtime_error(file_ + ": " + what + ": stored as " + type_name(type) + ", expected a string");
    const htri_t variable = H5Tis_variable_str(type);
    if (variable < 0) fail(file_, what, "cannot read its type");
    if (variable > 0) {
        H5Id memory(H5Tcopy(H5T_C_S1));
        H5Tset_size(memory.get(), H5T_VARIABLE);
        H5Tset_cset(memory.get(), H5Tget_cset(type));
        char* text = nullptr;
        check_status(H5Aread(attribute.id.get(), memory.get(), &text), file_, what, "read failed");
        std::string value = text ? text : "";
        H5free_memory(text);
        return value;
    }
    const size_t size = H5Tget_size(type);
    std::string buffer(size, '\0');
    check_status(H5Aread(attribute.id.get(), type, buffer.data()), file_, what, "read failed");
    buffer.resize(strnlen(buffer.data(), size));  // null-terminated or null-padded
    return buffer;
}

std::vector<std::string> H5Group::attr_names() const {
    std::vector<std::string> names;
    const herr_t status = H5Aiterate2(
        id_.get(), H5_INDEX_NAME, H5_ITER_INC, nullptr,
        [](hid_t, const char* name, const H5A_info_t*, void* out) -> herr_t {
            static_cast<std::vector<std::string>*>(out)->emplace_back(name);
            return 0;
        },
        &names);
    check_status(status, file_, "group " + path_, "cannot list attributes");
    return names;
}

}  // namespace gpt
