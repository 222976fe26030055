// MetricsFollower (serve/metrics_follower.h): a bad line in metrics.jsonl is skipped and counted once;
// the good lines around it are committed once, never appended again by later polls (issue 27: 5,000 good
// lines + 1 garbage line gave 85,001 records after 15 polls).
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

#include "common/untrusted_text.h"
#include "serve/metrics_follower.h"

using namespace gpt;

namespace {

std::filesystem::path scratch_file(const char* name) {
    const auto dir = std::filesystem::temp_directory_path() / ("gpt_test_follower_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    return dir / name;
}

void append(const std::filesystem::path& file, const std::string& text) {
    std::ofstream out(file, std::ios::binary | std::ios::app);
    out << text;
}

std::string record(int step) { return "{\"step\": " + std::to_string(step) + ", \"train_loss\": 2.5}\n"; }

}  // namespace

TEST_CASE("a bad metrics line is skipped once and never duplicates the records") {
    const auto file = scratch_file("metrics.jsonl");
    std::filesystem::remove(file);
    for (int i = 1; i <= 50; ++i) append(file, record(i));
    append(file, "{garbage\n");
    for (int i = 51; i <= 60; ++i) append(file, record(i));
    MetricsFollower follower;
    for (int poll = 0; poll < 15; ++poll) {
        const auto& records = follower.read(file);
        REQUIRE(records.size() == 60);
        CHECK(records.front().step == 1);
        CHECK(records.back().step == 60);
    }
    CHECK(follower.skipped() == 1);
    CHECK(follower.first_skipped().find("metrics.jsonl:51:") != std::string::npos);

    // Lines appended after the bad one are read once; a second bad line is counted.
    append(file, "[1, 2]\n");
    append(file, record(61));
    CHECK(follower.read(file).size() == 61);
    CHECK(follower.read(file).size() == 61);
    CHECK(follower.skipped() == 2);

    // A line still being written waits; completed, it is read once.
    append(file, "{\"step\": 62");
    CHECK(follower.read(file).size() == 61);
    append(file, ", \"train_loss\": 2.0}\n");
    CHECK(follower.read(file).size() == 62);
    CHECK(follower.read(file).back().step == 62);

    // The file rewritten (the bad line fixed, fewer bytes): read again from the start, nothing doubled.
    std::filesystem::remove(file);
    for (int i = 1; i <= 60; ++i) append(file, record(i));
    CHECK(follower.read(file).size() == 60);
    CHECK(follower.skipped() == 0);

    // The bad line fixed in place (an editor; same inode, the file longer): read again from the start,
    // 5,001 lines -> 5,001 records in the terms.
    {
        std::ofstream out(file, std::ios::binary | std::ios::trunc);
        for (int i = 1; i <= 50; ++i) out << record(i);
        out << "{garbage\n";
        for (int i = 52; i <= 60; ++i) out << record(i);
    }
    MetricsFollower fixed;
    CHECK(fixed.read(file).size() == 59);
    CHECK(fixed.skipped() == 1);
    {
        std::ofstream out(file, std::ios::binary | std::ios::trunc);
        for (int i = 1; i <= 60; ++i) out << record(i);
    }
    CHECK(fixed.read(file).size() == 60);
    CHECK(fixed.read(file).size() == 60);
    CHECK(fixed.skipped() == 0);
    std::filesystem::remove_all(file.parent_path());
}

TEST_CASE("excerpt bounds and escapes untrusted text; json_nesting_depth does not recurse") {
    CHECK(excerpt("abc") == "'abc'");
    CHECK(excerpt(std::string("a\0b\n", 4)) == "'a\\x00b\\n'");
    const std::string long_text(100000, 'x');
    const std::string quoted = excerpt(long_text);
    CHECK(quoted.size() < 120);
    CHECK(quoted.find("(100000 bytes)") != std::string::npos);
    CHECK(json_nesting_depth("{\"a\": [1, {\"b\": \"[[[[\"}]}") == 3);
    CHECK(json_nesting_depth(std::string(1000000, '[')) == 1000000);
    CHECK(json_nesting_depth("\"\\\"[\"") == 0);
}
