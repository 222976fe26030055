#include <doctest/doctest.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include "data/token_file.h"
#include "temp_dir.h"

using namespace gpt;

static std::string read_all(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST_CASE("token file: write and memory-map back, uint16 and uint32") {
    test::TempDir dir;
    const std::vector<int32_t> small{0, 1, 65535, 42, 7};
    write_token_file(dir.path() / "a.bin", small, 65536);
    CHECK(std::filesystem::file_size(dir.path() / "a.bin") == 32 + 2 * small.size());
    CHECK(!std::filesystem::exists(dir.path() / "a.bin.tmp"));
    const TokenFile a(dir.path() / "a.bin");
    CHECK(a.dtype() == TokenDtype::UInt16);
    CHECK(a.vocab_size() == 65536);
    REQUIRE(a.size() == int64_t(small.size()));
    for (size_t i = 0; i < small.size(); ++i) CHECK(a[int64_t(i)] == small[i]);

    const std::vector<int32_t> large{70000, 0, 100255};
    write_token_file(dir.path() / "b.bin", large, 100256);
    TokenFile b(dir.path() / "b.bin");
    CHECK(b.dtype() == TokenDtype::UInt32);
    CHECK(std::filesystem::file_size(dir.path() / "b.bin") == 32 + 4 * large.size());
    for (size_t i = 0; i < large.size(); ++i) CHECK(b[int64_t(i)] == large[i]);
    TokenFile moved = std::move(b);
    CHECK(moved[2] == 100255);

    write_token_file(dir.path() / "empty.bin", std::vector<int32_t>{}, 10);
    CHECK(TokenFile(dir.path() / "empty.bin").size() == 0);
    CHECK_THROWS_WITH_AS(write_token_file(dir.path() / "c.bin", std::vector<int32_t>{3, 10}, 10),
                         doctest::Contains("id 10 at position 1 is outside [0, 10)"), std::invalid_argument);
}

TEST_CASE("token file: a corrupted header or length is rejected with a message naming the file") {
    test::TempDir dir;
    const std::vector<int32_t> ids{5, 6, 7, 8};
    write_token_file(dir.path() / "good.bin", ids, 100);
    const std::string good = read_all(dir.path() / "good.bin");
    const auto rejects = [&](const std::string& name, std::string bytes, const std::string& expected) {
        const auto path = dir.write(name, bytes);
        CHECK_THROWS_WITH_AS(TokenFile{path}, doctest::Contains(expected.c_str()), std::runtime_error);
        CHECK_THROWS_WITH(TokenFile{path}, doctest::Contains(path.string().c_str()));
    };
    std::string bad_magic = good;
    bad_magic[0] = 'X';
    rejects("magic.bin", bad_magic, "bad magic");
    std::string bad_version = good;
    bad_version[8] = 2;
    rejects("version.bin", bad_version, "unsupported version 2");
    std::string bad_dtype = good;
    bad_dtype[12] = 3;
    rejects("dtype.bin", bad_dtype, "unknown dtype code 3");
    std::string bad_count = good;
    bad_count[16] = 5;  // header claims 5 ids, the file holds 4
    rejects("count.bin", bad_count, "header says 5 ids");
    rejects("truncated_ids.bin", good.substr(0, good.size() - 1), "(truncated)");
    rejects("trailing.bin", good + "xx", "header says 4 ids");
    rejects("truncated_header.bin", good.substr(0, 20), "shorter than the 32-byte header");
    std::string bad_vocab = good;
    std::memset(&bad_vocab[24], 0, 8);
    bad_vocab[26] = 1;  // vocab_size 0x01010000: too large for uint16 ids
    bad_vocab[27] = 1;
    rejects("vocab.bin", bad_vocab, "does not fit dtype");
    CHECK_THROWS_WITH(TokenFile(dir.path() / "missing.bin"), doctest::Contains("cannot open"));
}
