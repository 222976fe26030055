// The safetensors file format (Hugging Face): an 8-byte little-endian header length N, N bytes of
// JSON {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ..., "__metadata__":
// {string: string}}, then the data buffer; offsets are relative to the buffer's start, little-endian,
// row-major.
//
// Reading validates the whole header before any tensor is read: the header length against the file
// size, the JSON, every entry's dtype (F32, F16, BF16 are read, converted to float32; others are
// named and refused), shape (non-negative integers), data_offsets (begin <= end <= buffer size,
// end - begin == elements x dtype size), and that no two tensors overlap. Every failure is one
// std::runtime_error line naming the file and, where there is one, the tensor.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace gpt {

struct SafetensorsEntry {
    std::string name;
    std::string dtype;           // "F32" | "F16" | "BF16" (others are refused when the file is opened)
    std::vector<int64_t> shape;
    uint64_t begin = 0, end = 0;  // byte range in the data buffer
    int64_t numel() const;
};

class SafetensorsFile {
public:
    explicit SafetensorsFile(const std::filesystem::path& path);  // reads and validates the header

    const std::vector<SafetensorsEntry>& entries() const { return entries_; }
    const SafetensorsEntry* find(const std::string& name) const;
    const std::map<std::string, std::string>& metadata() const { return metadata_; }
    // The tensor's values as float32, row-major.
    std::vector<float> read(const SafetensorsEntry& entry) const;
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
    uint64_t data_start_ = 0;  // 8 + N
    std::vector<SafetensorsEntry> entries_;
    std::map<std::string, std::string> metadata_;
};

struct SafetensorsTensor {
    std::string name;
    std::vector<int64_t> shape;
    std::vector<float> values;  // row-major, written as F32
};

// Writes tensors in the given order (F32), the header padded with spaces to a multiple of 8 bytes.
void write_safetensors(const std::filesystem::path& path, const std::vector<SafetensorsTensor>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

// IEEE half and bfloat16 to float32 (exact).
float half_to_float(uint16_t h);
float bfloat16_to_float(uint16_t b);

}  // namespace gpt
