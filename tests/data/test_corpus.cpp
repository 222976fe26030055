#include <doctest/doctest.h>

#include <stdexcept>

#include "data/corpus.h"
#include "temp_dir.h"

using namespace gpt;

TEST_CASE("corpus: a single file, and a folder of .txt and extensionless files sorted by name") {
    test::TempDir dir;
    const auto file = dir.write("one.txt", "hello\n");
    const Corpus single = read_corpus(file);
    REQUIRE(single.documents.size() == 1);
    CHECK(single.documents[0].text == "hello\n");

    const auto folder = dir.path() / "docs";
    std::filesystem::create_directory(folder);
    std::ofstream(folder / "b.txt") << "second";
    std::ofstream(folder / "a") << "first";
    std::ofstream(folder / "a.dat") << std::string("\0\1\2", 3);  // index files are skipped
    std::ofstream(folder / ".hidden") << "no";
    std::ofstream(folder / "notes.md") << "no";
    std::ofstream(folder / "empty.txt");
    std::filesystem::create_symlink(folder / "a", folder / "a.u8");
    std::filesystem::create_directory(folder / "sub");
    const Corpus corpus = read_corpus(folder);
    REQUIRE(corpus.documents.size() == 2);
    CHECK(corpus.documents[0].text == "first");
    CHECK(corpus.documents[1].text == "second");
    CHECK(corpus.bytes() == 11);

    CorpusOptions join;
    join.join_with_end_of_text = true;
    const Corpus joined = read_corpus(folder, join);
    REQUIRE(joined.documents.size() == 1);
    CHECK(joined.documents[0].text == "first<|endoftext|>second");
}

TEST_CASE("corpus: each problem is one error naming the path") {
    test::TempDir dir;
    const auto missing = dir.path() / "nope.txt";
    CHECK_THROWS_WITH_AS(read_corpus(missing), ("corpus " + missing.string() + ": does not exist").c_str(), std::runtime_error);
    const auto empty = dir.write("empty.txt", "");
    CHECK_THROWS_WITH(read_corpus(empty), ("corpus " + empty.string() + ": is empty").c_str());
    const auto binary = dir.write("model", std::string("GPT\0\1", 5));
    CHECK_THROWS_WITH(read_corpus(binary), doctest::Contains((binary.string() + ": looks binary (NUL byte at offset 3)").c_str()));

    const auto no_text = dir.path() / "no_text";
    std::filesystem::create_directory(no_text);
    std::ofstream(no_text / "x.dat") << "index";
    CHECK_THROWS_WITH(read_corpus(no_text), doctest::Contains((no_text.string() + ": directory has no text files").c_str()));
    const auto all_empty = dir.path() / "all_empty";
    std::filesystem::create_directory(all_empty);
    std::ofstream(all_empty / "a.txt");
    CHECK_THROWS_WITH(read_corpus(all_empty), doctest::Contains("all 1 text files in the directory are empty"));
}

TEST_CASE("corpus: Debian's fortunes folder reads as a corpus when installed") {
    const std::filesystem::path fortunes = "/usr/share/games/fortunes";
    if (!std::filesystem::is_directory(fortunes)) return;
    const Corpus corpus = read_corpus(fortunes);
    CHECK(corpus.documents.size() > 1);
    for (const CorpusDocument& d : corpus.documents) {
        CHECK(d.path.extension() != ".dat");
        CHECK(d.path.extension() != ".u8");
    }
    CHECK(corpus.bytes() > 10000);
}

TEST_CASE("corpus: a folder's skipped entries are named, a symbolic-link loop included (issue 27)") {
    test::TempDir dir;
    const auto folder = dir.path() / "docs";
    std::filesystem::create_directory(folder);
    std::ofstream(folder / "a.txt") << "text";
    std::ofstream(folder / "empty.txt");
    std::ofstream(folder / "notes.md") << "no";
    std::filesystem::create_directory(folder / "sub");
    std::filesystem::create_symlink(folder / "loop", folder / "loop");  // a link to itself
    const Corpus corpus = read_corpus(folder);
    REQUIRE(corpus.documents.size() == 1);
    using Skipped = std::vector<std::pair<std::string, std::string>>;
    CHECK(corpus.skipped ==
          Skipped{{"empty.txt", "empty"}, {"loop", "symbolic link"}, {"notes.md", "not .txt"}, {"sub", "folder"}});
    CHECK(corpus.skipped_summary() == folder.string() + ": skipped 4 entries: empty: empty.txt; symbolic link: loop; "
                                                        "not .txt: notes.md; folder: sub");
    for (int i = 0; i < 5; ++i) std::ofstream(folder / ("x" + std::to_string(i) + ".md")) << "no";
    CHECK(read_corpus(folder).skipped_summary().find("not .txt: notes.md, x0.md, x1.md and 3 more") != std::string::npos);
    CHECK(read_corpus(dir.write("one.txt", "hello\n")).skipped_summary().empty());
}
