// The bytes of an in-memory HDF5 file (H5File::image), with a workaround for libhdf5 1.10.8.
//
// H5Fget_file_image clears the superblock's status flags in the copy (the file is open for writing, the
// image must not say so) but leaves the checksum computed over the flags as they were, so the image is
// refused on open ("incorrect metadata checksum"). We recompute that checksum. Superblock version 2/3
// layout (O = size of offsets): signature[8] version[1] O[1] L[1] flags[1] base, extension, EOF,
// root-object-header addresses [4·O], checksum[4] = lookup3 (Bob Jenkins, initval 0) of all before it.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "io/hdf5_internal.h"

namespace gpt {

using namespace h5detail;

namespace {

uint32_t rotate(uint32_t x, int k) { return (x << k) | (x >> (32 - k)); }

// H5_checksum_lookup3(key, length, 0): Jenkins' hashlittle over bytes, as HDF5's metadata checksums.
uint32_t lookup3(const unsigned char* k, size_t length) {
    uint32_t a, b, c;
    a = b = c = 0xdeadbeefu + static_cast<uint32_t>(length);
    auto word = [](const unsigned char* p, size_t n) {  // up to 4 bytes, little-endian
        uint32_t w = 0;
        for (size_t i = 0; i < n; ++i) w += static_cast<uint32_t>(p[i]) << (8 * i);
        return w;
    };
    while (length > 12) {
        a += word(k, 4), b += word(k + 4, 4), c += word(k + 8, 4);
        a -= c, a ^= rotate(c, 4), c += b;
        b -= a, b ^= rotate(a, 6), a += c;
        c -= b, c ^= rotate(b, 8), b += a;
        a -= c, a ^= rotate(c, 16), c += b;
        b -= a, b ^= rotate(a, 19), a += c;
        c -= b, c ^= rotate(b, 4), b += a;
        length -= 12, k += 12;
    }
    if (length == 0) return c;
    a += word(k, length < 4 ? length : 4);
    if (length > 4) b += word(k + 4, length < 8 ? length - 4 : 4);
    if (length > 8) c += word(k + 8, length - 8);
    c ^= b, c -= rotate(b, 14);
    a ^= c, a -= rotate(c, 11);
    b ^= a, b -= rotate(a, 25);
    c ^= b, c -= rotate(b, 16);
    a ^= c, a -= rotate(c, 4);
    b ^= a, b -= rotate(a, 14);
    c ^= b, c -= rotate(b, 24);
    return c;
}

void fix_superblock_checksum(std::vector<unsigned char>& bytes) {
    static const unsigned char signature[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    if (bytes.size() < 12 || !std::equal(signature, signature + 8, bytes.begin())) return;
    const unsigned version = bytes[8];
    if (version != 2 && version != 3) return;  // older superblocks carry no checksum
    const size_t checksum_at = 12 + 4 * static_cast<size_t>(bytes[9]);
    if (bytes.size() < checksum_at + 4) return;
    const uint32_t sum = lookup3(bytes.data(), checksum_at);
    for (size_t i = 0; i < 4; ++i) bytes[checksum_at + i] = static_cast<unsigned char>(sum >> (8 * i));
}

}  // namespace

std::vector<unsigned char> H5File::image() const {
    // H5Fget_file_image copies the driver's buffer: the metadata cache must be written into it first.
    check_status(H5Fflush(file_id_.get(), H5F_SCOPE_GLOBAL), file_, "file", "cannot flush");
    const ssize_t size = H5Fget_file_image(file_id_.get(), nullptr, 0);
    if (size < 0) fail(file_, "file", "cannot get the file image");
    std::vector<unsigned char> bytes(static_cast<size_t>(size));
    if (H5Fget_file_image(file_id_.get(), bytes.data(), bytes.size()) < 0) fail(file_, "file", "cannot get the file image");
    fix_superblock_checksum(bytes);
    return bytes;
}

}  // namespace gpt
