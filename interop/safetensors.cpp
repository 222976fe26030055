#include "interop/safetensors.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <fstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "common/untrusted_text.h"

namespace gpt {
namespace fs = std::filesystem;

static_assert(std::endian::native == std::endian::little, "safetensors data is little-endian");

int64_t SafetensorsEntry::numel() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
}

float half_to_float(uint16_t h) {
    const uint32_t sign = uint32_t(h & 0x8000) << 16;
    const uint32_t exponent = (h >> 10) & 0x1F, mantissa = h & 0x3FF;
    uint32_t bits;
    if (exponent == 0) {
        if (mantissa == 0) {
            bits = sign;
        } else {  // subnormal: mantissa · 2^-24
            const float value = std::ldexp(float(mantissa), -24);
            std::memcpy(&bits, &value, 4);
            bits |= sign;
        }
    } else if (exponent == 31) {
        bits = sign | 0x7F800000u | (mantissa << 13);
    } else {
        bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
    }
    return std::bit_cast<float>(bits);
}

float bfloat16_to_float(uint16_t b) { return std::bit_cast<float>(uint32_t(b) << 16); }

namespace {

int dtype_size(const std::string& dtype) {
    if (dtype == "F32") return 4;
    if (dtype == "F16" || dtype == "BF16") return 2;
    return 0;
}

}  // namespace

SafetensorsFile::SafetensorsFile(const fs::path& path) : path_(path) {
    const std::string file = path.string();
    const auto fail = [&](const std::string& what) { throw std::runtime_error(file + ": " + what); };
    std::error_code error;
    const uint64_t file_size = fs::file_size(path, error);
    if (error) fail("cannot open: " + error.message());
    std::ifstream in(path, std::ios::binary);
    if (!in) fail("cannot open");
    if (file_size < 8) fail("truncated: " + std::to_string(file_size) + " bytes, a safetensors file starts with an 8-byte header length");
    unsigned char length_bytes[8];
    in.read(reinterpret_cast<char*>(length_bytes), 8);
    uint64_t header_length = 0;
    for (int i = 7; i >= 0; --i) header_length = (header_length << 8) | length_bytes[i];
    if (header_length > file_size - 8)
        fail("header length " + std::to_string(header_length) + " exceeds the " + std::to_string(file_size - 8) +
             " bytes after it (truncated file or not safetensors)");
    if (header_length > (uint64_t(100) << 20)) fail("header length " + std::to_string(header_length) + " is over 100 MB");
    std::string header(header_length, '\0');
    in.read(header.data(), std::streamsize(header_length));
    if (!in) fail("cannot read the header");
    data_start_ = 8 + header_length;
    const uint64_t buffer_size = file_size - data_start_;

    // A header is {name: {dtype, shape: [...], data_offsets: [...]}, __metadata__: {key: text}}: three
    // levels. Deeper nesting is refused before the parse, so nothing ever walks (or dumps) a value nested
    // a million levels deep (issue 27: exit 139).
    if (const size_t depth = json_nesting_depth(header); depth > 3)
        fail("header nests arrays or objects " + std::to_string(depth) + " deep; a safetensors header has 3 levels");
    nlohmann::json json;
    try {
        json = nlohmann::json::parse(header);
    } catch (const nlohmann::json::exception& e) {
        const std::string what = e.what();  // may quote the header: bounded
        fail("header is not valid JSON: " + (what.size() > 200 ? what.substr(0, 200) + "…" : what));
    }
    if (!json.is_object()) fail("header is not a JSON object");
    for (const auto& [name, value] : json.items()) {
        const std::string& tensor = name;  // clang < 16 cannot capture a structured binding
        const auto bad = [&](const std::string& what) { fail("tensor " + bounded(tensor) + ": " + what); };
        if (name == "__metadata__") {
            if (!value.is_object()) fail("__metadata__ is not an object");
            for (const auto& [key, text] : value.items()) {
                if (!text.is_string()) fail("__metadata__ " + bounded(key) + " is not a string");
                metadata_[key] = text.get<std::string>();
            }
            continue;
        }
        if (!value.is_object()) bad("entry is not an object");
        SafetensorsEntry entry;
        entry.name = name;
        if (!value.contains("dtype") || !value["dtype"].is_string()) bad("no dtype");
        entry.dtype = value["dtype"].get<std::string>();
        const int size = dtype_size(entry.dtype);
        if (size == 0) bad("dtype " + bounded(entry.dtype) + " is not supported (F32, F16, BF16)");
        if (!value.contains("shape") || !value["shape"].is_array()) bad("no shape array");
        // Sizes are checked before each multiply, so the product never wraps (issue 27: [2^40, 2^24] was
        // 0 elements); messages quote the shape only as the sizes read so far, never the untrusted value.
        constexpr uint64_t kMaxElements = uint64_t(1) << 40;
        uint64_t elements = 1;
        std::string shape_text = "[";
        for (const auto& d : value["shape"]) {
            if (!d.is_number_unsigned() || d.get<uint64_t>() > kMaxElements)
                bad("shape entry " + std::to_string(entry.shape.size()) + " (a " + std::string(d.type_name()) +
                    ") is not a size in [0, 2^40]");
            const uint64_t size_d = d.get<uint64_t>();
            entry.shape.push_back(int64_t(size_d));
            shape_text += (entry.shape.size() > 1 ? ", " : "") + std::to_string(size_d);
            if (size_d != 0 && elements > kMaxElements / size_d) bad("shape " + shape_text + ", ...] has over 2^40 elements");
            elements *= size_d;
        }
        shape_text += "]";
        const auto& offsets = value.contains("data_offsets") ? value["data_offsets"] : nlohmann::json();
        if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() || !offsets[1].is_number_unsigned())
            bad("data_offsets is not [begin, end]");
        entry.begin = offsets[0].get<uint64_t>();
        entry.end = offsets[1].get<uint64_t>();
        if (entry.begin > entry.end || entry.end > buffer_size)
            bad("data_offsets [" + std::to_string(entry.begin) + ", " + std::to_string(entry.end) +
                "] outside the data buffer of " + std::to_string(buffer_size) + " bytes (truncated file?)");
        if (entry.end - entry.begin != elements * uint64_t(size))
            bad("data_offsets span " + std::to_string(entry.end - entry.begin) + " bytes but shape " + shape_text +
                " of " + entry.dtype + " needs " + std::to_string(elements * uint64_t(size)));
        entries_.push_back(std::move(entry));
    }
    // Every non-empty range against every other: sorted by start, each must begin at or after the end of
    // every range before it (the furthest end so far), not only its neighbour's -- an empty tensor between
    // two overlapping ones hid the overlap (issue 27). Empty tensors occupy no bytes.
    std::vector<const SafetensorsEntry*> by_offset;
    for (const auto& e : entries_)
        if (e.begin != e.end) by_offset.push_back(&e);
    std::sort(by_offset.begin(), by_offset.end(),
              [](auto* a, auto* b) { return a->begin != b->begin ? a->begin < b->begin : a->end < b->end; });
    const SafetensorsEntry* furthest = nullptr;
    for (const SafetensorsEntry* e : by_offset) {
        if (furthest && e->begin < furthest->end)
            fail("tensor " + bounded(e->name) + ": data overlaps tensor " + bounded(furthest->name));
        if (!furthest || e->end > furthest->end) furthest = e;
    }
}

const SafetensorsEntry* SafetensorsFile::find(const std::string& name) const {
    for (const auto& e : entries_)
        if (e.name == name) return &e;
    return nullptr;
}

std::vector<float> SafetensorsFile::read(const SafetensorsEntry& entry) const {
    std::ifstream in(path_, std::ios::binary);
    const auto fail = [&](const std::string& what) {
        throw std::runtime_error(path_.string() + ": tensor " + entry.name + ": " + what);
    };
    if (!in) fail("cannot open the file");
    std::string bytes(entry.end - entry.begin, '\0');
    in.seekg(std::streamoff(data_start_ + entry.begin));
    in.read(bytes.data(), std::streamsize(bytes.size()));
    if (!in) fail("cannot read its " + std::to_string(bytes.size()) + " bytes (file changed or truncated)");
    const size_t n = size_t(entry.numel());
    std::vector<float> values(n);
    if (entry.dtype == "F32") {
        std::memcpy(values.data(), bytes.data(), n * 4);
    } else {
        for (size_t i = 0; i < n; ++i) {
            uint16_t v;
            std::memcpy(&v, bytes.data() + 2 * i, 2);
            values[i] = entry.dtype == "F16" ? half_to_float(v) : bfloat16_to_float(v);
        }
    }
    return values;
}

void write_safetensors(const fs::path& path, const std::vector<SafetensorsTensor>& tensors,
                       const std::map<std::string, std::string>& metadata) {
    nlohmann::ordered_json header = nlohmann::ordered_json::object();
    if (!metadata.empty()) header["__metadata__"] = metadata;
    uint64_t offset = 0;
    for (const auto& t : tensors) {
        int64_t n = 1;
        for (int64_t d : t.shape) n *= d;
        if (size_t(n) != t.values.size())
            throw std::invalid_argument("write_safetensors: tensor " + t.name + " has " + std::to_string(t.values.size()) +
                                        " values for its shape");
        header[t.name] = {{"dtype", "F32"}, {"shape", t.shape}, {"data_offsets", {offset, offset + uint64_t(n) * 4}}};
        offset += uint64_t(n) * 4;
    }
    std::string text = header.dump();
    while (text.size() % 8 != 0) text += ' ';
    std::ofstream out(path, std::ios::binary);
    if (!out) throw std::runtime_error(path.string() + ": cannot create");
    uint64_t length = text.size();
    unsigned char length_bytes[8];
    for (int i = 0; i < 8; ++i) length_bytes[i] = static_cast<unsigned char>(length >> (8 * i));
    out.write(reinterpret_cast<const char*>(length_bytes), 8);
    out.write(text.data(), std::streamsize(text.size()));
    for (const auto& t : tensors) out.write(reinterpret_cast<const char*>(t.values.data()), std::streamsize(t.values.size() * 4));
    out.close();
    if (!out) throw std::runtime_error(path.string() + ": write failed");
}

}  // namespace gpt
