// libFuzzer target: `gpt import`'s safetensors reader (interop/safetensors.h) on arbitrary files. The
// header is JSON written by whoever made the file: deep nesting, shapes whose product overflows, ranges
// that overlap or leave the file must each be one std::runtime_error (issue 27), never a crash, a hang
// or an allocation the file cannot back. Every tensor the header accepts is read.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>

#include "interop/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const std::filesystem::path path =
        std::filesystem::temp_directory_path() / ("fuzz_safetensors_" + std::to_string(::getpid()) + ".safetensors");
    std::ofstream(path, std::ios::binary | std::ios::trunc).write(reinterpret_cast<const char*>(data), std::streamsize(size));
    try {
        const gpt::SafetensorsFile file(path);
        for (const gpt::SafetensorsEntry& entry : file.entries()) (void)file.read(entry);
    } catch (const std::exception&) {
        // a refused file: the expected outcome for most inputs
    }
    return 0;
}
