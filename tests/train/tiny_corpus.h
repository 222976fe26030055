// Small generated corpora for in-process training tests, deterministic for a given seed: 6,000 words from
// an 11-word vocabulary, sentences ending at pseudo-random places; pairs of words and their reversals.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

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

// A parallel corpus for model = transformer tests: `lines` words of 3..(2 + spread) letters a–h, each
// with its reversal ("word<TAB>drow"), in dir/pairs.tsv.
inline std::filesystem::path write_reversal_pairs(const std::filesystem::path& dir, uint64_t seed, int lines,
                                                  int spread) {
    std::filesystem::create_directories(dir);
    const std::filesystem::path path = dir / "pairs.tsv";
    std::ofstream out(path);
    uint64_t x = seed;
    for (int i = 0; i < lines; ++i) {
        std::string word;
        for (int k = 0; k < 3 + i % spread; ++k) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            word += static_cast<char>('a' + (x >> 33) % 8);
        }
        out << word << '\t' << std::string(word.rbegin(), word.rend()) << '\n';
    }
    return path;
}

}  // namespace gpt::test
