// A small generated corpus for in-process training tests: 6,000 words from an 11-word vocabulary,
// sentences ending at pseudo-random places. Deterministic for a given seed.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>

namespace gpt::test {

inline std::filesystem::path write_word_corpus(const std::filesystem::path& dir, uint64_t seed) {
    std::filesystem::create_directories(dir);
    const std::filesystem::path path = dir / "corpus.txt";
    std::ofstream out(path);
    const char* words[] = {"the", "quick", "brown", "fox", "jumps", "over", "a", "lazy", "dog", "and", "runs"};
    uint64_t x = seed;
    for (int i = 0; i < 6000; ++i) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;  // Knuth's MMIX LCG
        out << words[(x >> 33) % 11] << ((x >> 20) % 9 == 0 ? ".\n" : " ");
    }
    return path;
}

}  // namespace gpt::test
