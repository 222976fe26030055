// The HDF5 wrapper's defences: Fletcher32 on data and checksummed metadata against flipped bytes, atomic
// replacement (a save that fails or runs out of space leaves the previous file and no .tmp), and saves
// that hold no copy of the file in memory.
#include <doctest/doctest.h>

#include <sys/resource.h>

#include <algorithm>
#include <csignal>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "hdf5_test_util.h"
#include "io/hdf5.h"

using namespace gpt;
using namespace gpt::test;
namespace fs = std::filesystem;

TEST_CASE("Fletcher32: bytes flipped inside a dataset's data are refused on read") {
    const std::string path = temp_path("flip.h5");
    std::vector<float> values(1000);
    for (size_t i = 0; i < values.size(); ++i) values[i] = 1.0f + 0.5f * static_cast<float>(i);
    {
        H5File file = H5File::create(path);
        file.create_group("model").write("wte.weight", {10, 100}, values.data());
    }
    std::vector<char> bytes = read_bytes(path);
    // The data is stored uncompressed: find it by its first 64 bytes.
    const char* pattern = reinterpret_cast<const char*>(values.data());
    auto at = std::search(bytes.begin(), bytes.end(), pattern, pattern + 64);
    REQUIRE(at != bytes.end());
    const size_t offset = static_cast<size_t>(at - bytes.begin()) + 1234;
    for (size_t i = 0; i < 3; ++i) bytes[offset + i] = static_cast<char>(bytes[offset + i] ^ 0x5A);
    write_bytes(path, bytes);
    H5File file = H5File::open_read(path);
    CHECK_THROWS_WITH(file.read<float>("model/wte.weight"),
                      doctest::Contains("flip.h5: dataset /model/wte.weight: checksum mismatch or read error"));
}

TEST_CASE("a byte flipped anywhere is refused or changes nothing that is read") {
    // Every byte of a small file, one at a time: the load either throws or returns exactly the
    // original content (the byte was unused). It never returns different data.
    const std::string path = temp_path("anywhere.h5");
    const std::vector<float> weights = {1.5f, -2.25f, 3.0f, 4.75f, 5.5f, -6.0f};
    {
        H5File file = H5File::create(path);
        file.set_attr_int("format_version", 1);
        H5Group model = file.create_group("model");
        model.write("w", {2, 3}, weights.data());
        model.set_attr_string("name", "tiny");
    }
    const std::vector<char> original = read_bytes(path);
    const std::string flipped = temp_path("anywhere_flipped.h5");
    write_bytes(flipped, original);
    int refused = 0, unchanged = 0, wrong = 0;
    for (size_t i = 0; i < original.size(); ++i) {
        xor_byte(flipped, i, 0x10);
        if (i > 0) xor_byte(flipped, i - 1, 0x10);  // restore the previous flip
        try {
            H5File file = H5File::open_read(flipped);
            const bool same = file.attr_int("format_version") == 1 &&
                              file.open_group("model").attr_string("name") == "tiny" &&
                              file.read<float>("model/w", {2, 3}) == weights;
            (same ? unchanged : wrong) += 1;
        } catch (const std::runtime_error& e) {
            CHECK(std::string(e.what()).find(flipped + ": ") == 0);
            ++refused;
        }
    }
    MESSAGE(original.size() << " bytes: " << refused << " flips refused, " << unchanged << " harmless");
    CHECK(wrong == 0);
    CHECK(refused > 0);
}

TEST_CASE("write_atomically replaces the file, or leaves the old one intact and no .tmp") {
    const std::string path = temp_path("ckpt.h5");
    fs::remove(path);
    write_atomically(path, [](H5File& file) { file.set_attr_int("iter", 1); });
    CHECK(H5File::open_read(path).attr_int("iter") == 1);
    write_atomically(path, [](H5File& file) { file.set_attr_int("iter", 2); });
    CHECK(H5File::open_read(path).attr_int("iter") == 2);
    CHECK_FALSE(fs::exists(path + ".tmp"));

    const auto before = read_bytes(path);
    const std::string message = error_of([&] {
        write_atomically(path, [](H5File& file) {
            file.set_attr_int("iter", 3);
            file.create_group("model").write("w", std::vector<float>(1000, 1.0f));
            throw std::runtime_error("disk on fire");
        });
    });
    CHECK(message.find("previous file at " + path + " is untouched") != std::string::npos);
    CHECK(message.find("disk on fire") != std::string::npos);
    CHECK(read_bytes(path) == before);
    CHECK_FALSE(fs::exists(path + ".tmp"));

    const std::string nowhere = temp_path("no/such/folder/ckpt.h5");
    CHECK_THROWS_WITH(write_atomically(nowhere, [](H5File&) {}), doctest::Contains("is untouched"));
    CHECK_FALSE(fs::exists(nowhere + ".tmp"));
}

TEST_CASE("a save that runs out of space leaves the previous file intact") {
    // A file-size limit (RLIMIT_FSIZE) stands in for a full disk: writes past it fail with EFBIG.
    const std::string path = temp_path("full.h5");
    write_atomically(path, [](H5File& file) { file.set_attr_int("iter", 1); });
    const auto before = read_bytes(path);
    rlimit saved{};
    REQUIRE(getrlimit(RLIMIT_FSIZE, &saved) == 0);
    const auto previous_handler = std::signal(SIGXFSZ, SIG_IGN);
    rlimit small = saved;
    small.rlim_cur = 64 * 1024;
    REQUIRE(setrlimit(RLIMIT_FSIZE, &small) == 0);
    const std::string message = error_of([&] {
        write_atomically(path, [](H5File& file) {
            file.set_attr_int("iter", 2);
            file.write("weights", std::vector<float>(1 << 20, 0.5f));  // 4 MiB
        });
    });
    setrlimit(RLIMIT_FSIZE, &saved);
    std::signal(SIGXFSZ, previous_handler);
    CHECK(message.find("the previous file at " + path + " is untouched") != std::string::npos);
    CHECK(message.find("write failed") != std::string::npos);
    CHECK(message.find('\n') == std::string::npos);
    CHECK(read_bytes(path) == before);
    CHECK(H5File::open_read(path).attr_int("iter") == 1);
    CHECK_FALSE(fs::exists(path + ".tmp"));
}

TEST_CASE("a save that fails leaves no file under the final name, and the next save works") {
    const std::string path = temp_path("first.h5");
    fs::remove(path);
    // No previous file: a failure in the middle of a dataset-heavy fill leaves nothing behind.
    CHECK_THROWS_WITH(write_atomically(path,
                                       [](H5File& file) {
                                           file.write("a", std::vector<float>(1 << 20, 1.0f));
                                           file.write("b", std::vector<int64_t>(1 << 18, 7));
                                           throw std::runtime_error("stopped half-way");
                                       }),
                      doctest::Contains("stopped half-way"));
    CHECK_FALSE(fs::exists(path));
    CHECK_FALSE(fs::exists(path + ".tmp"));
    // Out of space with no previous file: the same (the write error is reported after a clean close).
    rlimit saved{};
    REQUIRE(getrlimit(RLIMIT_FSIZE, &saved) == 0);
    const auto previous_handler = std::signal(SIGXFSZ, SIG_IGN);
    rlimit small = saved;
    small.rlim_cur = 256 * 1024;
    REQUIRE(setrlimit(RLIMIT_FSIZE, &small) == 0);
    const std::string message = error_of([&] {
        write_atomically(path, [](H5File& file) {
            file.write("a", std::vector<float>(1 << 20, 1.0f));  // the limit falls inside this dataset
            file.write("b", std::vector<float>(1 << 20, 2.0f));  // written after the failure: dropped
            file.set_attr_int("iter", 5);
        });
    });
    setrlimit(RLIMIT_FSIZE, &saved);
    std::signal(SIGXFSZ, previous_handler);
    CHECK(message.find(path + ".tmp: write failed at byte ") != std::string::npos);
    CHECK(message.find(std::strerror(EFBIG)) != std::string::npos);
    CHECK_FALSE(fs::exists(path));
    CHECK_FALSE(fs::exists(path + ".tmp"));
    // HDF5 is left healthy: the next save, of the same size, succeeds and reads back.
    write_atomically(path, [](H5File& file) {
        file.write("a", std::vector<float>(1 << 20, 1.0f));
        file.write("b", std::vector<float>(1 << 20, 2.0f));
        file.set_attr_int("iter", 5);
    });
    const H5File file = H5File::open_read(path);
    CHECK(file.attr_int("iter") == 5);
    CHECK(file.read<float>("b", {1 << 20}) == std::vector<float>(1 << 20, 2.0f));
}

TEST_CASE("write_atomically round trip: many chunks of every element type, shapes kept") {
    const std::string path = temp_path("large.h5");
    std::mt19937 rng(11);
    std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
    std::vector<float> matrix(3000 * 257);  // 3 MB: several 1 MiB chunks, the last one partial
    for (float& x : matrix) x = uniform(rng);
    const std::vector<int64_t> longs = iota_values<int64_t>(300000, -5);
    const std::vector<uint8_t> bytes = iota_values<uint8_t>(70000, 3);
    const std::vector<uint64_t> words = iota_values<uint64_t>(4, 1);
    write_atomically(path, [&](H5File& file) {
        file.write("optimizer/m/w", {3000, 257}, matrix.data());
        file.write("ids", longs);
        file.write("tokenizer/bytes", bytes);
        file.write("train/rng", words);
        file.write("empty", {0, 5}, static_cast<const float*>(nullptr));
        file.open_group("train").set_attr_string("note", "checked driver");
    });
    const H5File file = H5File::open_read(path);
    CHECK(file.read<float>("optimizer/m/w", {3000, 257}) == matrix);
    CHECK(file.read<int64_t>("ids", {300000}) == longs);
    CHECK(file.read<uint8_t>("tokenizer/bytes", {70000}) == bytes);
    CHECK(file.read<uint64_t>("train/rng", {4}) == words);
    CHECK(file.dataset_shape("empty") == H5Shape{0, 5});
    CHECK(file.open_group("train").attr_string("note") == "checked driver");
    // Every byte of the file is HDF5's: no trailing space past its end of allocation, none missing.
    CHECK(fs::file_size(path) >= matrix.size() * sizeof(float) + longs.size() * sizeof(int64_t));
    CHECK(fs::file_size(path) < matrix.size() * sizeof(float) + longs.size() * sizeof(int64_t) + (1 << 20));
}

namespace {

// VmRSS or VmHWM (the peak since the last reset) of this process, in KiB, from /proc/self/status.
int64_t status_kib(const std::string& key) {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind(key + ":", 0) == 0) return std::stoll(line.substr(key.size() + 1));
    return -1;
}

}  // namespace

TEST_CASE("a save holds no copy of the file in memory: the datasets go to disk from the caller's buffers") {
    // 48 MiB of weights in memory. Building the file in memory first (as saves did before the checked
    // driver) raised the peak resident memory by the file's size; now by HDF5's chunk buffers alone.
    std::vector<float> weights(12 << 20);
    for (size_t i = 0; i < weights.size(); ++i) weights[i] = static_cast<float>(i % 1000) * 0.001f;
    std::ofstream reset("/proc/self/clear_refs");
    reset << "5";  // resets VmHWM to the current VmRSS (Linux >= 4.0)
    reset.close();
    REQUIRE_MESSAGE(!reset.fail(), "cannot reset the peak resident memory through /proc/self/clear_refs");
    const int64_t before = status_kib("VmRSS");
    REQUIRE(before > 48 * 1024);
    REQUIRE(status_kib("VmHWM") - before < 1024);  // the reset took
    write_atomically(temp_path("flat.h5"), [&](H5File& file) {
        file.write("model/w", {12 << 10, 1024}, weights.data());
        file.write("optimizer/m/w", {12 << 10, 1024}, weights.data());
    });
    const int64_t growth = status_kib("VmHWM") - before;
    MESSAGE("peak resident memory grew by " << growth << " KiB while 96 MiB were saved");
#if defined(__SANITIZE_ADDRESS__)
    // ASan keeps freed blocks in its quarantine (256 MiB by default) and adds shadow memory, so resident
    // memory says nothing about copies here (measured: +139 MiB). The bound is checked by the Release
    // suite, which CI runs too; this build checks the round trip below.
    MESSAGE("sanitizer build: the peak-memory bound is checked in the Release suite, not here");
#else
    CHECK(growth < 32 * 1024);  // a third of the file (measured: 3-8 MiB, the first HDF5 use included)
#endif
    CHECK(H5File::open_read(temp_path("flat.h5")).read<float>("optimizer/m/w", {12 << 10, 1024}) == weights);
    fs::remove(temp_path("flat.h5"));  // 96 MiB
}
