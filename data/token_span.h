// A read-only view of token ids stored as uint16, uint32 or int32 (token files use the narrowest
// unsigned type that holds the vocabulary), read as int32. Does not own the memory.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace gpt {

enum class TokenDtype : uint32_t { UInt16 = 2, UInt32 = 4, Int32 = 5 };

class TokenSpan {
public:
    TokenSpan() = default;
    TokenSpan(std::span<const uint16_t> ids) : data_(ids.data()), size_(int64_t(ids.size())), dtype_(TokenDtype::UInt16) {}
    TokenSpan(std::span<const uint32_t> ids) : data_(ids.data()), size_(int64_t(ids.size())), dtype_(TokenDtype::UInt32) {}
    TokenSpan(std::span<const int32_t> ids) : data_(ids.data()), size_(int64_t(ids.size())), dtype_(TokenDtype::Int32) {}
    TokenSpan(const std::vector<uint16_t>& ids) : TokenSpan(std::span<const uint16_t>(ids)) {}
    TokenSpan(const std::vector<uint32_t>& ids) : TokenSpan(std::span<const uint32_t>(ids)) {}
    TokenSpan(const std::vector<int32_t>& ids) : TokenSpan(std::span<const int32_t>(ids)) {}
    TokenSpan(const void* data, int64_t size, TokenDtype dtype) : data_(data), size_(size), dtype_(dtype) {}

    int64_t size() const { return size_; }
    TokenDtype dtype() const { return dtype_; }
    const void* data() const { return data_; }

    int32_t operator[](int64_t i) const {
        switch (dtype_) {
            case TokenDtype::UInt16: return static_cast<const uint16_t*>(data_)[i];
            case TokenDtype::UInt32: return static_cast<int32_t>(static_cast<const uint32_t*>(data_)[i]);
            case TokenDtype::Int32: break;
        }
        return static_cast<const int32_t*>(data_)[i];
    }

    // out[0 .. count) = ids[start .. start + count), converted to int32.
    void copy(int64_t start, int64_t count, int32_t* out) const {
        switch (dtype_) {
            case TokenDtype::UInt16: {
                const uint16_t* p = static_cast<const uint16_t*>(data_) + start;
                for (int64_t i = 0; i < count; ++i) out[i] = p[i];
                return;
            }
            case TokenDtype::UInt32: {
                const uint32_t* p = static_cast<const uint32_t*>(data_) + start;
                for (int64_t i = 0; i < count; ++i) out[i] = static_cast<int32_t>(p[i]);
                return;
            }
            case TokenDtype::Int32: break;
        }
        const int32_t* p = static_cast<const int32_t*>(data_) + start;
        for (int64_t i = 0; i < count; ++i) out[i] = p[i];
    }

private:
    const void* data_ = nullptr;
    int64_t size_ = 0;
    TokenDtype dtype_ = TokenDtype::Int32;
};

}  // namespace gpt
