// What the HDF5 tests share: a scratch folder in the build tree, a file's bytes, a byte flipped in place,
// test values, and the message of an exception.
#pragma once

#include <doctest/doctest.h>

#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace gpt::test {

inline std::string test_dir() {
    const std::filesystem::path dir = std::filesystem::path(GPT_BINARY_DIR) / "tmp_test_io";
    std::filesystem::create_directories(dir);
    return dir.string();
}

inline std::string temp_path(const std::string& name) { return test_dir() + "/" + name; }

inline std::vector<char> read_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::vector<char>(std::istreambuf_iterator<char>(in), {});
}

inline void write_bytes(const std::string& path, const std::vector<char>& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// In place (no truncate-and-rewrite, which ext4 turns into a synchronous flush on every close).
inline void xor_byte(const std::string& path, size_t offset, char mask) {
    std::fstream file(path, std::ios::binary | std::ios::in | std::ios::out);
    char byte = 0;
    file.seekg(static_cast<std::streamoff>(offset));
    file.read(&byte, 1);
    byte = static_cast<char>(byte ^ mask);
    file.seekp(static_cast<std::streamoff>(offset));
    file.write(&byte, 1);
}

template <class T>
inline std::vector<T> iota_values(size_t n, T start) {
    std::vector<T> v(n);
    for (size_t i = 0; i < n; ++i) v[i] = static_cast<T>(start + static_cast<T>(i * 7 % 251));
    return v;
}

// The message of the exception `f` throws ("" if none), so a test can assert on several parts of it.
template <class F>
inline std::string error_of(F&& f) {
    try {
        f();
    } catch (const std::exception& e) {
        return e.what();
    }
    return "";
}

}  // namespace gpt::test
