#include "data/token_file.h"

#include "common/regular_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace gpt {

static_assert(std::endian::native == std::endian::little, "token files are little-endian; add byte swapping");

namespace {

struct Header {
    char magic[8];
    uint32_t version;
    uint32_t dtype;
    uint64_t count;
    uint64_t vocab_size;
};
static_assert(sizeof(Header) == kTokenFileHeaderBytes);

[[noreturn]] void fail(const std::filesystem::path& path, const std::string& what) {
    throw std::runtime_error("token file " + path.string() + ": " + what);
}

template <typename T>
void write_converted(std::ofstream& out, std::span<const int32_t> ids) {
    std::vector<T> chunk;
    constexpr size_t kChunk = 1 << 16;
    for (size_t start = 0; start < ids.size(); start += kChunk) {
        const size_t n = std::min(kChunk, ids.size() - start);
        chunk.resize(n);
        for (size_t i = 0; i < n; ++i) chunk[i] = static_cast<T>(ids[start + i]);
        out.write(reinterpret_cast<const char*>(chunk.data()), std::streamsize(n * sizeof(T)));
    }
}

}  // namespace

void write_token_file(const std::filesystem::path& path, std::span<const int32_t> ids, int64_t vocab_size) {
    if (vocab_size < 1 || vocab_size > int64_t(INT32_MAX) + 1)
        throw std::invalid_argument("write_token_file " + path.string() + ": vocab_size " + std::to_string(vocab_size) +
                                    " is outside [1, 2^31]");
    for (size_t i = 0; i < ids.size(); ++i)
        if (ids[i] < 0 || ids[i] >= vocab_size)
            throw std::invalid_argument("write_token_file " + path.string() + ": id " + std::to_string(ids[i]) +
                                        " at position " + std::to_string(i) + " is outside [0, " +
                                        std::to_string(vocab_size) + ")");
    Header header{};
    std::memcpy(header.magic, kTokenFileMagic, sizeof header.magic);
    header.version = kTokenFileVersion;
    header.dtype = vocab_size <= 65536 ? uint32_t(TokenDtype::UInt16) : uint32_t(TokenDtype::UInt32);
    header.count = ids.size();
    header.vocab_size = static_cast<uint64_t>(vocab_size);

    std::filesystem::path temporary = path;
    temporary += ".tmp";
    // A failed write (full disk) or rename leaves no temporary file behind.
    struct RemoveOnFailure {
        const std::filesystem::path& file;
        bool done = false;
        ~RemoveOnFailure() {
            std::error_code ignored;
            if (!done) std::filesystem::remove(file, ignored);
        }
    } cleanup{temporary};
    {
        std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
        if (!out) fail(temporary, std::string("cannot open for writing: ") + std::strerror(errno));
        out.write(reinterpret_cast<const char*>(&header), sizeof header);
        if (header.dtype == uint32_t(TokenDtype::UInt16)) write_converted<uint16_t>(out, ids);
        else write_converted<uint32_t>(out, ids);
        out.flush();
        if (!out) fail(temporary, "write failed (disk full?)");
    }
    std::error_code error;
    std::filesystem::rename(temporary, path, error);
    if (error) fail(path, "cannot rename " + temporary.string() + " to it: " + error.message());
    cleanup.done = true;
}

namespace {

// Index of the first id ≥ limit, or −1.
template <class Id>
int64_t first_id_at_or_above(const Id* ids, int64_t count, int64_t limit) {
    for (int64_t i = 0; i < count; ++i)
        if (static_cast<int64_t>(ids[i]) >= limit) return i;
    return -1;
}

}  // namespace

TokenFile::TokenFile(const std::filesystem::path& path) : path_(path) {
    try {
        require_regular_file(path.string(), "token file");
    } catch (const std::runtime_error& e) {
        if (std::filesystem::exists(path)) throw;  // a missing file gets the "run gpt prepare" hint below
    }
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) fail(path, std::string("cannot open: ") + std::strerror(errno) + " (run `gpt prepare` to create it)");
    struct stat info {};
    if (::fstat(fd, &info) != 0) {
        const int saved = errno;
        ::close(fd);
        fail(path, std::string("cannot stat: ") + std::strerror(saved));
    }
    const uint64_t file_bytes = static_cast<uint64_t>(info.st_size);
    if (file_bytes < sizeof(Header)) {
        ::close(fd);
        fail(path, "truncated: " + std::to_string(file_bytes) + " bytes, shorter than the " +
                       std::to_string(sizeof(Header)) + "-byte header");
    }
    void* mapping = ::mmap(nullptr, file_bytes, PROT_READ, MAP_PRIVATE, fd, 0);
    const int map_errno = errno;
    ::close(fd);  // the mapping keeps the file open
    if (mapping == MAP_FAILED) fail(path, std::string("mmap failed: ") + std::strerror(map_errno));
    mapping_ = mapping;
    mapping_bytes_ = file_bytes;

    Header header{};
    std::memcpy(&header, mapping, sizeof header);
    try {
        if (std::memcmp(header.magic, kTokenFileMagic, sizeof header.magic) != 0)
            fail(path, "bad magic (not a token file written by gpt prepare)");
        if (header.version != kTokenFileVersion)
            fail(path, "unsupported version " + std::to_string(header.version) + " (this build reads version " +
                           std::to_string(kTokenFileVersion) + "; re-run gpt prepare)");
        if (header.dtype != uint32_t(TokenDtype::UInt16) && header.dtype != uint32_t(TokenDtype::UInt32))
            fail(path, "unknown dtype code " + std::to_string(header.dtype) + " (expected 2 = uint16 or 4 = uint32)");
        if (header.vocab_size < 1 || header.vocab_size > uint64_t(INT32_MAX) + 1 ||
            (header.dtype == uint32_t(TokenDtype::UInt16) && header.vocab_size > 65536))
            fail(path, "vocab_size " + std::to_string(header.vocab_size) + " does not fit dtype code " +
                           std::to_string(header.dtype));
        const uint64_t payload = file_bytes - sizeof(Header);
        if (header.count > payload / header.dtype || header.count * header.dtype != payload)
            fail(path, "header says " + std::to_string(header.count) + " ids of " + std::to_string(header.dtype) +
                           " bytes but the file has " + std::to_string(payload) + " bytes after the header" +
                           (header.count * header.dtype > payload ? " (truncated)" : ""));
    } catch (...) {
        release();
        throw;
    }
    ids_ = static_cast<const char*>(mapping) + sizeof(Header);
    count_ = static_cast<int64_t>(header.count);
    vocab_size_ = static_cast<int64_t>(header.vocab_size);
    dtype_ = static_cast<TokenDtype>(header.dtype);
    // Every id must be below the header's vocab_size, or training would fail much later in the
    // embedding with no file named: one pass over the ids now (about a second per GB).
    const int64_t bad = dtype_ == TokenDtype::UInt16
                            ? first_id_at_or_above(static_cast<const uint16_t*>(ids_), count_, vocab_size_)
                            : first_id_at_or_above(static_cast<const uint32_t*>(ids_), count_, vocab_size_);
    if (bad >= 0) {
        const int64_t id = tokens()[bad];
        release();
        fail(path, "id " + std::to_string(static_cast<uint32_t>(id)) + " at position " + std::to_string(bad) +
                       " is not below the header's vocab_size " + std::to_string(vocab_size_));
    }
}

TokenFile::~TokenFile() { release(); }

TokenFile::TokenFile(TokenFile&& other) noexcept { *this = std::move(other); }

TokenFile& TokenFile::operator=(TokenFile&& other) noexcept {
    if (this != &other) {
        release();
        path_ = std::move(other.path_);
        mapping_ = std::exchange(other.mapping_, nullptr);
        mapping_bytes_ = std::exchange(other.mapping_bytes_, 0);
        ids_ = std::exchange(other.ids_, nullptr);
        count_ = std::exchange(other.count_, 0);
        vocab_size_ = other.vocab_size_;
        dtype_ = other.dtype_;
    }
    return *this;
}

void TokenFile::release() {
    if (mapping_) ::munmap(mapping_, mapping_bytes_);
    mapping_ = nullptr;
    mapping_bytes_ = 0;
}

}  // namespace gpt
