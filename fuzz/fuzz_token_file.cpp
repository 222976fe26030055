// libFuzzer target: the token-file reader (data/token_file.h) on arbitrary file contents. A file is
// either refused with std::runtime_error or opened, and then every id it yields is < vocab_size.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "data/token_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const std::string path = "/tmp/fuzz_token_file_" + std::to_string(getpid()) + ".bin";
    FILE* file = std::fopen(path.c_str(), "wb");
    if (!file) return 0;
    std::fwrite(data, 1, size, file);
    std::fclose(file);
    try {
        const gpt::TokenFile tokens(path);
        for (int64_t i = 0; i < tokens.size(); ++i) {
            const int32_t id = tokens[i];
            if (id < 0 || id >= tokens.vocab_size()) {
                std::fprintf(stderr, "id %d at %lld outside the vocabulary of %lld\n", id, (long long)i,
                             (long long)tokens.vocab_size());
                std::abort();
            }
        }
    } catch (const std::runtime_error&) {
    } catch (const std::invalid_argument&) {
    }
    return 0;
}
