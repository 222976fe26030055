// Token file: the ids of one split (train.bin / val.bin), written once by prepare and memory-mapped
// by training. Little-endian, a 32-byte header then the ids:
//
//   offset  size  field
//        0     8  magic       "GPTTOKS\0"
//        8     4  version     uint32, 1
//       12     4  dtype       uint32, bytes per id: 2 (uint16, when vocab_size <= 65536) or 4 (uint32)
//       16     8  count       uint64, number of ids
//       24     8  vocab_size  uint64, every id is < vocab_size
//       32        ids         count * dtype bytes; the file ends there
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>

#include "data/token_span.h"

namespace gpt {

inline constexpr char kTokenFileMagic[8] = {'G', 'P', 'T', 'T', 'O', 'K', 'S', '\0'};
inline constexpr uint32_t kTokenFileVersion = 1;
inline constexpr int64_t kTokenFileHeaderBytes = 32;

// Writes path + ".tmp" then renames it over path, so a reader never sees a half-written file.
// Throws std::invalid_argument for an id outside [0, vocab_size), std::runtime_error on I/O errors.
void write_token_file(const std::filesystem::path& path, std::span<const int32_t> ids, int64_t vocab_size);

// A memory-mapped token file, validated on open: std::runtime_error naming the path and saying what
// is wrong (missing, truncated header, bad magic, unsupported version or dtype, length mismatch).
class TokenFile {
public:
    explicit TokenFile(const std::filesystem::path& path);
    ~TokenFile();
    TokenFile(TokenFile&& other) noexcept;
    TokenFile& operator=(TokenFile&& other) noexcept;
    TokenFile(const TokenFile&) = delete;
    TokenFile& operator=(const TokenFile&) = delete;

    int64_t size() const { return count_; }
    int64_t vocab_size() const { return vocab_size_; }
    TokenDtype dtype() const { return dtype_; }
    int32_t operator[](int64_t i) const { return tokens()[i]; }
    TokenSpan tokens() const { return TokenSpan(ids_, count_, dtype_); }
    const std::filesystem::path& path() const { return path_; }

private:
    void release();

    std::filesystem::path path_;
    void* mapping_ = nullptr;
    size_t mapping_bytes_ = 0;
    const void* ids_ = nullptr;
    int64_t count_ = 0;
    int64_t vocab_size_ = 0;
    TokenDtype dtype_ = TokenDtype::UInt16;
};

}  // namespace gpt
