// The HDF5 wrapper: round trips of every element type and attribute kind, files h5py wrote, byte-identical
// output, and the error messages (the corruption and failure defences: test_hdf5_failures.cpp).
#include <doctest/doctest.h>

#include "../reference_python.h"

#include <algorithm>
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
