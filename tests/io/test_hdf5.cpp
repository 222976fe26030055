// The HDF5 wrapper: round trips of every element type and attribute kind, the error messages, and the
// corruption defences (Fletcher32 on data, checksummed metadata, atomic replacement).
#include <doctest/doctest.h>

#include "../reference_python.h"

#include <sys/resource.h>

#include <algorithm>
#include <csignal>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "io/hdf5.h"

using namespace gpt;
namespace fs = std::filesystem;

namespace {

std::string test_dir() {
    const fs::path dir = fs::path(GPT_BINARY_DIR) / "tmp_test_io";
    fs::create_directories(dir);
    return dir.string();
}

std::string temp_path(const std::string& name) { return test_dir() + "/" + name; }

std::vector<char> read_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::vector<char>(std::istreambuf_iterator<char>(in), {});
}

void write_bytes(const std::string& path, const std::vector<char>& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// In place (no truncate-and-rewrite, which ext4 turns into a synchronous flush on every close).
void xor_byte(const std::string& path, size_t offset, char mask) {
    std::fstream file(path, std::ios::binary | std::ios::in | std::ios::out);
    char byte = 0;
    file.seekg(static_cast<std::streamoff>(offset));
    file.read(&byte, 1);
    byte = static_cast<char>(byte ^ mask);
    file.seekp(static_cast<std::streamoff>(offset));
    file.write(&byte, 1);
}

template <class T>
std::vector<T> iota_values(size_t n, T start) {
    std::vector<T> v(n);
    for (size_t i = 0; i < n; ++i) v[i] = static_cast<T>(start + static_cast<T>(i * 7 % 251));
    return v;
}

// The message of the exception `f` throws ("" if none), so a test can assert on several parts of it.
template <class F>
std::string error_of(F&& f) {
    try {
        f();
    } catch (const std::exception& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST_CASE("datasets of every element type round-trip with their shapes") {
    const std::string path = temp_path("types.h5");
    const auto f32 = [] {
        std::vector<float> v(6 * 300000 / 6);  // 1.2 MB: more than one 1 MiB chunk
        for (size_t i = 0; i < v.size(); ++i) v[i] = std::sin(0.001f * static_cast<float>(i)) * 1e3f;
        return v;
    }();
    const auto i32 = iota_values<int32_t>(24, -100);
    const auto i64 = std::vector<int64_t>{INT64_MIN, -1, 0, 1, INT64_MAX, 1LL << 40};
    const auto u8 = iota_values<uint8_t>(257, 0);
    const auto u64 = std::vector<uint64_t>{0, 1, UINT64_MAX, 0x9E3779B97F4A7C15ULL};
    {
        H5File file = H5File::create(path);
        file.write("f32", {600, 500}, f32.data());
        file.write("nested/deeper/i32", {2, 3, 4}, i32.data());
        file.write("i64", i64);
        file.write("u8", u8);
        file.write("u64", {2, 2}, u64.data());
        file.close();
    }
    H5File file = H5File::open_read(path);
    const H5Array<float> a = file.read<float>("f32");
    CHECK(a.shape == H5Shape{600, 500});
    CHECK(a.values == f32);
    const H5Array<int32_t> b = file.read<int32_t>("/nested/deeper/i32");
    CHECK(b.shape == H5Shape{2, 3, 4});
    CHECK(b.values == i32);
    CHECK(file.read<int64_t>("i64", {6}) == i64);
    CHECK(file.read<uint8_t>("u8", {257}) == u8);
    CHECK(file.read<uint64_t>("u64", {2, 2}) == u64);
    CHECK(file.dataset_shape("nested/deeper/i32") == H5Shape{2, 3, 4});
    std::vector<float> into(300000);
    file.read_into<float>("f32", {600, 500}, into.data());
    CHECK(into == f32);
}

TEST_CASE("datasets with a zero dimension round-trip; rank 0 is refused") {
    const std::string path = temp_path("empty.h5");
    {
        H5File file = H5File::create(path);
        file.write("none", std::vector<float>{});
        file.write<int64_t>("rows0", {0, 3}, nullptr);
        file.write<uint8_t>("cols0", {4, 0}, nullptr);
        CHECK_THROWS_WITH(file.write<float>("scalar", {}, nullptr), doctest::Contains("rank-0"));
        CHECK_THROWS_WITH(file.write<float>("nodata", {2}, nullptr), doctest::Contains("no data"));
    }
    H5File file = H5File::open_read(path);
    CHECK(file.read<float>("none").shape == H5Shape{0});
    CHECK(file.read<float>("none").values.empty());
    CHECK(file.read<int64_t>("rows0").shape == H5Shape{0, 3});
    CHECK(file.read<uint8_t>("cols0", {4, 0}).empty());
    CHECK_FALSE(file.exists("scalar"));
}

TEST_CASE("groups: nested creation, lookup and listing") {
    const std::string path = temp_path("groups.h5");
    H5File file = H5File::create(path);
    H5Group m = file.create_group("/optimizer/m");
    CHECK(m.path() == "/optimizer/m");
    m.write("b.weight", std::vector<float>{1, 2});
    m.write("a.bias", std::vector<float>{3});
    file.create_group("model");
    CHECK(file.exists("optimizer"));
    CHECK(file.exists("/optimizer/m/a.bias"));
    CHECK_FALSE(file.exists("optimizer/v/a.bias"));  // a missing parent answers false, not an error
    CHECK(file.is_group("optimizer/m"));
    CHECK_FALSE(file.is_group("optimizer/m/a.bias"));
    CHECK(file.is_dataset("optimizer/m/a.bias"));
    CHECK(m.list() == std::vector<std::string>{"a.bias", "b.weight"});
    CHECK(file.list() == std::vector<std::string>{"model", "optimizer"});
    CHECK(file.open_group("optimizer").open_group("m").read<float>("b.weight").values == std::vector<float>{1, 2});
    CHECK(file.require_group("optimizer/m").path() == "/optimizer/m");
    CHECK(file.require_group("train").path() == "/train");
    CHECK_THROWS_WITH(file.create_group("model"), doctest::Contains("group /model: already exists"));
    CHECK_THROWS_WITH(file.open_group("tokenizer"), doctest::Contains("groups.h5: group /tokenizer: not found"));
    CHECK_THROWS_WITH(file.open_group("optimizer/m/a.bias"), doctest::Contains("not a group"));
    CHECK_THROWS_WITH(m.write("a.bias", std::vector<float>{1}), doctest::Contains("/optimizer/m/a.bias: already exists"));
}

TEST_CASE("attributes: int64, double and strings on files and groups") {
    const std::string path = temp_path("attrs.h5");
    const std::string long_text(200000, 'x');  // beyond the 64 KiB of a compact attribute message
    {
        H5File file = H5File::create(path);
        file.set_attr_int("format_version", 1);
        file.set_attr_string("config", "{\"n_layer\": 4}");
        H5Group train = file.create_group("train");
        train.set_attr_int("iter", -(1LL << 50));
        train.set_attr_double("best_val_loss", 1.8812345678901234);
        train.set_attr_double("nan", std::nan(""));
        train.set_attr_string("empty", "");
        train.set_attr_string("utf8", "héllo → 世界");
        train.set_attr_string("long", long_text);
        train.set_attr_int("iter", 42);  // replaces
        file.close();
    }
    H5File file = H5File::open_read(path);
    CHECK(file.attr_int("format_version") == 1);
    CHECK(file.attr_string("config") == "{\"n_layer\": 4}");
    H5Group train = file.open_group("train");
    CHECK(train.attr_int("iter") == 42);
    CHECK(train.attr_double("best_val_loss") == 1.8812345678901234);
    CHECK(std::isnan(train.attr_double("nan")));
    CHECK(train.attr_double("iter") == 42.0);  // an integer reads as a number
    CHECK(train.attr_string("empty").empty());
    CHECK(train.attr_string("utf8") == "héllo → 世界");
    CHECK(train.attr_string("long") == long_text);
    CHECK(train.has_attr("iter"));
    CHECK_FALSE(train.has_attr("tokens_seen"));
    CHECK(train.attr_names() == std::vector<std::string>{"best_val_loss", "empty", "iter", "long", "nan", "utf8"});
    CHECK_THROWS_WITH(train.attr_int("tokens_seen"), doctest::Contains("attrs.h5: attribute /train@tokens_seen: not found"));
    CHECK_THROWS_WITH(train.attr_int("best_val_loss"), doctest::Contains("stored as float64, expected an integer"));
    CHECK_THROWS_WITH(train.attr_string("iter"), doctest::Contains("expected a string"));
}

TEST_CASE("reading the wrong shape, type or a missing dataset names the dataset") {
    const std::string path = temp_path("model.h5");
    {
        H5File file = H5File::create(path);
        file.create_group("model").write("wte.weight", {2, 3}, std::vector<float>(6, 1.0f).data());
    }
    H5File file = H5File::open_read(path);
    const std::string shape_error = error_of([&] { file.read<float>("/model/wte.weight", {3, 2}); });
    CHECK(shape_error.find("model.h5: dataset /model/wte.weight") != std::string::npos);
    CHECK(shape_error.find("[2, 3] in the file, expected [3, 2]") != std::string::npos);
    CHECK_THROWS_WITH(file.open_group("model").read<float>("wpe.weight"),
                      doctest::Contains("model.h5: dataset /model/wpe.weight: not found"));
    CHECK_THROWS_WITH(file.read<int32_t>("model/wte.weight"), doctest::Contains("stored as float32, expected int32"));
    CHECK_THROWS_WITH(file.read<float>("model"), doctest::Contains("/model: not a dataset"));
}

TEST_CASE("missing, non-HDF5 and truncated files are refused with the file's name") {
    CHECK_THROWS_WITH(H5File::open_read(temp_path("absent.h5")), doctest::Contains("absent.h5: no such file"));
    CHECK_THROWS_WITH(H5File::open_read(test_dir()), doctest::Contains("is a directory"));

    const std::string junk = temp_path("junk.h5");
    std::vector<char> bytes(4096);
    std::mt19937 rng(7);
    for (char& b : bytes) b = static_cast<char>(rng());
    write_bytes(junk, bytes);
    CHECK_THROWS_WITH(H5File::open_read(junk), doctest::Contains("junk.h5: not an HDF5 file"));

    const std::string whole = temp_path("whole.h5");
    {
        H5File file = H5File::create(whole);
        file.write("data", std::vector<float>(50000, 2.5f));
        file.set_attr_int("format_version", 1);
    }
    std::vector<char> full = read_bytes(whole);
    REQUIRE(full.size() > 200000);
    const std::string cut = temp_path("truncated.h5");
    full.resize(full.size() / 2);
    write_bytes(cut, full);
    const std::string message = error_of([&] {
        H5File file = H5File::open_read(cut);
        file.read<float>("data");
    });
    CHECK(message.find(cut + ": ") == 0);
    CHECK(message.find('\n') == std::string::npos);
}

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

TEST_CASE("the same content gives the same bytes (no timestamps)") {
    const auto fill = [](H5File& file) {
        file.set_attr_string("config", "n_layer = 4");
        file.create_group("model").write("w", std::vector<float>{1, 2, 3});
    };
    write_atomically(temp_path("same_a.h5"), fill);
    write_atomically(temp_path("same_b.h5"), fill);
    CHECK(read_bytes(temp_path("same_a.h5")) == read_bytes(temp_path("same_b.h5")));
}

TEST_CASE("files written by h5py: variable-length strings and other integer widths") {
    const std::string path = temp_path("from_h5py.h5");
    fs::remove(path);
    const std::string script =
        "import h5py, numpy as np\n"
        "f = h5py.File('" + path + "', 'w')\n"
        "f.attrs['tokenizer'] = 'char'\n"       // h5py: variable-length UTF-8
        "f.attrs['vocab'] = np.int32(65)\n"
        "f.attrs['lr'] = np.float32(0.5)\n"
        "f.create_dataset('ids', data=np.arange(5, dtype=np.int32), chunks=True, fletcher32=True)\n"
        // Storage a checkpoint never uses: each must be refused before any read.
        "f['contiguous'] = np.arange(5, dtype=np.int32)\n"
        "f.create_dataset('unchecked', data=np.arange(5, dtype=np.int32), chunks=True)\n"
        "f.create_dataset('deflated', data=np.arange(5, dtype=np.int32), chunks=True, fletcher32=True, compression='gzip')\n"
        "f.create_dataset('external', shape=(5,), dtype='i4', external=[('/dev/zero', 0, 20)])\n"
        "layout = h5py.VirtualLayout(shape=(5,), dtype='i4')\n"
        "layout[:] = h5py.VirtualSource('.', 'virtual', shape=(5,))\n"
        "f.create_virtual_dataset('virtual', layout)\n"
        "f.create_dataset('unwritten', shape=(1 << 28,), dtype='f4', chunks=(1024,), fletcher32=True)\n";
    const std::string script_path = temp_path("write_h5py.py");
    std::ofstream(script_path) << script;
    if (std::system((std::string(GPT_PYTHON) + " -c 'import h5py' 2>/dev/null").c_str()) != 0) {
        gpt::test::reference_unavailable("h5py cannot be imported by " GPT_PYTHON);
        return;
    }
    REQUIRE(std::system((std::string(GPT_PYTHON) + " " + script_path).c_str()) == 0);
    H5File file = H5File::open_read(path);
    CHECK(file.attr_string("tokenizer") == "char");
    CHECK(file.attr_int("vocab") == 65);
    CHECK(file.attr_double("lr") == 0.5);
    CHECK(file.read<int32_t>("ids", {5}) == std::vector<int32_t>{0, 1, 2, 3, 4});
    CHECK_THROWS_WITH(file.read<int32_t>("contiguous", {5}), doctest::Contains("/contiguous: contiguous storage"));
    CHECK_THROWS_WITH(file.read<int32_t>("unchecked", {5}), doctest::Contains("/unchecked: no Fletcher32 checksum"));
    CHECK_THROWS_WITH(file.read<int32_t>("deflated", {5}), doctest::Contains("/deflated: filter 1 is not"));
    CHECK_THROWS_WITH(file.read<int32_t>("external", {5}), doctest::Contains("/external: stored in external files"));
    CHECK_THROWS_WITH(file.read<int32_t>("virtual", {5}), doctest::Contains("/virtual: virtual storage"));
    // 1 GiB declared, nothing written: refused before the allocation.
    CHECK_THROWS_WITH(file.read<float>("unwritten", {1 << 28}), doctest::Contains("unwritten chunks"));
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
