// interop/: Hugging Face GPT-2 folders in and out, with no download. tests/interop/hf_gpt2.py writes
// a small random GPT-2 in Hugging Face's layout (its own safetensors writer, Conv1D orientation, the
// attn.bias buffers, a tied lm_head) and GPT-2's logits computed op by op in PyTorch; the test imports
// it, compares this project's logits, and runs tools/load_checkpoint.py (the supported h5py -> PyTorch
// loader) on the imported checkpoint. Then export -> import is bit-identical, and broken files are
// refused with one line. Skipped when Debian's python3 has no torch, unless GPT_REQUIRE_TORCH=1.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <fstream>
#include <random>
#include <sstream>

#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "data/char_tokenizer.h"
#include "data/gpt2_tokenizer.h"
#include "interop/gpt2_interop.h"
#include "interop_test_util.h"
#include "interop/safetensors.h"
#include "nn/gpt.h"
#include "train/checkpoint.h"

using namespace gpt;
using gpt::test::TempDir, gpt::test::error_of;
namespace fs = std::filesystem;

namespace {

bool have_torch() {
    if (std::system((std::string(GPT_PYTHON) + " -c 'import torch, h5py' 2>/dev/null").c_str()) == 0) return true;
    const char* required = std::getenv("GPT_REQUIRE_TORCH");
    if (required && std::string(required) == "1") FAIL("GPT_REQUIRE_TORCH=1 but " GPT_PYTHON " cannot import torch and h5py");
    MESSAGE("skipped: " GPT_PYTHON " cannot import torch and h5py (the set-up script installs them)");
    return false;
}

std::vector<float> read_floats(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::vector<float> v;
    float x;
    while (in.read(reinterpret_cast<char*>(&x), sizeof x)) v.push_back(x);
    return v;
}

std::vector<int32_t> test_ids(const fs::path& file) {
    std::vector<int32_t> ids;
    std::mt19937 rng(3);
    for (int i = 0; i < 32; ++i) ids.push_back(int32_t(rng() % 257));
    std::ofstream out(file);
    for (int32_t id : ids) out << id << " ";
    return ids;
}

std::vector<float> logits_of(const std::string& checkpoint, const std::vector<int32_t>& ids) {
    const LoadedCheckpoint loaded = load_checkpoint(checkpoint);
    Generator generator(1);
    const Tensor logits = loaded.model->forward(ids, 1, int64_t(ids.size()), generator);
    return std::vector<float>(logits.data(), logits.data() + logits.numel());
}

double max_relative(const std::vector<float>& a, const std::vector<float>& reference) {
    REQUIRE(a.size() == reference.size());
    double diff = 0.0, scale = 0.0;
    for (size_t i = 0; i < a.size(); ++i) {
        diff = std::max(diff, std::abs(double(a[i]) - double(reference[i])));
        scale = std::max(scale, std::abs(double(reference[i])));
    }
    return diff / scale;
}

std::string run_python(const std::string& args) {
    const std::string command = std::string(GPT_PYTHON) + " " + args + " 2>&1";
    FILE* pipe = popen(command.c_str(), "r");
    std::string output;
    char buffer[4096];
    while (size_t n = fread(buffer, 1, sizeof buffer, pipe)) output.append(buffer, n);
    const int status = pclose(pipe);
    REQUIRE_MESSAGE(status == 0, command, "\n", output);
    return output;
}

std::string make_hf_folder(const fs::path& dir, const std::string& flags, std::vector<int32_t>& ids) {
    ids = test_ids(dir / "ids.txt");
    run_python(std::string(GPT_SOURCE_DIR) + "/tests/interop/hf_gpt2.py " + dir.string() + " " + (dir / "ids.txt").string() + " " + flags);
    return dir.string();
}

}  // namespace

TEST_CASE("import: a Hugging Face GPT-2 gives GPT-2's logits (F32, F16, BF16; with and without the prefix)") {
    if (!have_torch()) return;
    for (const char* flags : {"--dtype F32", "--dtype F16 --no-prefix", "--dtype BF16"}) {
        TempDir dir;
        std::vector<int32_t> ids;
        make_hf_folder(dir.path, flags, ids);
        const std::string summary = import_hf_gpt2(dir.path, dir.path / "imported.h5");
        CHECK(summary.find("vocab 257") != std::string::npos);
        const std::vector<float> mine = logits_of((dir.path / "imported.h5").string(), ids);
        const double error = max_relative(mine, read_floats(dir.path / "reference_logits.bin"));
        MESSAGE(std::string(flags) << ": logits max |diff| / max |reference| = " << error);
        std::fprintf(stderr, "import %s: logits max relative error vs PyTorch GPT-2 %.3g (%zu logits)\n", flags, error, mine.size());
        CHECK(error <= 1e-4);

        // The supported Python loader reads the imported checkpoint and agrees.
        run_python(std::string(GPT_SOURCE_DIR) + "/tools/load_checkpoint.py " + (dir.path / "imported.h5").string() +
                   " --ids-file " + (dir.path / "ids.txt").string() + " --logits-out " + (dir.path / "loader.bin").string());
        const double loader_error = max_relative(read_floats(dir.path / "loader.bin"), mine);
        std::fprintf(stderr, "tools/load_checkpoint.py vs C++ logits: max relative error %.3g\n", loader_error);
        CHECK(loader_error <= 1e-4);
    }
}

TEST_CASE("export -> import is bit-identical; export safetensors keeps the own names") {
    if (!have_torch()) return;
    TempDir dir;
    std::vector<int32_t> ids;
    make_hf_folder(dir.path, "", ids);
    const fs::path first = dir.path / "first.h5", second = dir.path / "second.h5";
    import_hf_gpt2(dir.path, first);
    export_checkpoint(first, "hf", dir.path / "hf");
    for (const char* name : {"config.json", "model.safetensors", "vocab.json", "merges.txt"}) CHECK(fs::exists(dir.path / "hf" / name));
    import_hf_gpt2(dir.path / "hf", second);
    const LoadedCheckpoint a = load_checkpoint(first.string()), b = load_checkpoint(second.string());
    const NamedTensors pa = a.model->named_parameters(), pb = b.model->named_parameters();
    REQUIRE(pa.size() == pb.size());
    for (size_t i = 0; i < pa.size(); ++i) {
        CHECK(pa[i].first == pb[i].first);
        CHECK(std::memcmp(pa[i].second.data(), pb[i].second.data(), size_t(pa[i].second.numel()) * 4) == 0);
    }
    CHECK(a.tokenizer->state().token_bytes == b.tokenizer->state().token_bytes);
    CHECK(a.tokenizer->type() == "gpt2");
    CHECK(b.tokenizer->type() == "gpt2");

    export_checkpoint(first, "safetensors", dir.path / "own");
    const SafetensorsFile own(dir.path / "own" / "model.safetensors");
    CHECK(own.entries().size() == pa.size());
    for (const auto& [name, tensor] : pa) {
        const SafetensorsEntry* e = own.find(name);
        REQUIRE(e);
        CHECK(e->shape == std::vector<int64_t>(tensor.shape().begin(), tensor.shape().end()));
        const std::vector<float> values = own.read(*e);
        CHECK(std::memcmp(values.data(), tensor.data(), values.size() * 4) == 0);
    }
    CHECK(own.metadata().count("gpt_cpp_config") == 1);
}

TEST_CASE("import refuses truncated or lying safetensors with one line naming the file and the tensor") {
    if (!have_torch()) return;
    TempDir dir;
    std::vector<int32_t> ids;
    make_hf_folder(dir.path, "", ids);
    const fs::path file = dir.path / "model.safetensors";
    std::string bytes;
    {
        std::ifstream in(file, std::ios::binary);
        std::ostringstream s;
        s << in.rdbuf();
        bytes = s.str();
    }
    uint64_t n = 0;
    for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(bytes[size_t(i)]);
    const std::string header = bytes.substr(8, n);
    const auto with_header = [&](std::string h) {
        h.resize(n, ' ');
        return bytes.substr(0, 8) + h + bytes.substr(8 + n);
    };
    const auto replace = [](std::string s, const std::string& from, const std::string& to) {
        const size_t at = s.find(from);
        REQUIRE(at != std::string::npos);
        return s.replace(at, from.size(), to);
    };
    struct Case {
        std::string what, contents, expect;
    };
    const std::vector<Case> cases = {
        {"truncated data", bytes.substr(0, bytes.size() / 2), "outside the data buffer"},
        {"truncated header", bytes.substr(0, 8 + n / 2), "exceeds"},
        {"4 bytes", bytes.substr(0, 4), "truncated"},
        // Shapes that disagree with their data_offsets, then a consistent header that disagrees with config.json.
        {"lying shape", with_header(replace(header, "\"shape\": [48, 192]", "\"shape\": [48, 190]")),
         "tensor transformer.h.0.mlp.c_fc.weight: data_offsets span 36864 bytes"},
        {"lying dtype", with_header(replace(header, "\"dtype\": \"F32\"", "\"dtype\": \"I64\"")), "dtype I64"},
        {"not JSON", with_header("{\"a\": "), "not valid JSON"},
        {"Conv1D weight stored as Linear", with_header(replace(header, "\"shape\": [48, 144]", "\"shape\": [144, 48]")),
         "tensor transformer.h.0.attn.c_attn.weight has shape [144, 48], expected [48, 144]"},
        {"overlapping tensors", with_header(replace(header, "\"data_offsets\": [0, ", "\"data_offsets\": [4, ")), "data_offsets"},
    };
    for (const Case& c : cases) {
        std::ofstream(file, std::ios::binary | std::ios::trunc) << c.contents;
        const std::string error = error_of([&] { import_hf_gpt2(dir.path, dir.path / "x.h5"); });
        CHECK_MESSAGE(error.find(file.string()) != std::string::npos, c.what, ": ", error);
        CHECK_MESSAGE(error.find(c.expect) != std::string::npos, c.what, ": ", error);
        CHECK_MESSAGE(error.find('\n') == std::string::npos, c.what, ": ", error);
        CHECK(!fs::exists(dir.path / "x.h5"));
    }
}

TEST_CASE("export hf refuses what GPT-2 cannot represent, naming the field") {
    if (!have_torch()) return;
    TempDir dir;
    std::vector<int32_t> ids;
    make_hf_folder(dir.path, "", ids);
    const auto tokenizer = Gpt2Tokenizer::from_files(dir.path);
    const auto refused = [&](GPTConfig m) {
        GPT model(m);
        TrainConfig train;
        const fs::path path = dir.path / "model.h5";
        save_weights(path.string(), model, *tokenizer, train);
        CHECK(error_of([&] { export_checkpoint(path, "safetensors", dir.path / "own"); }).empty());
        return error_of([&] { export_checkpoint(path, "hf", dir.path / "hf"); });
    };
    GPTConfig m;
    m.vocab_size = 257;
    m.n_embd = 32;
    m.n_head = 4;
    m.n_layer = 1;
    m.block_size = 8;
    GPTConfig sinusoidal = m;
    sinusoidal.pos_encoding = "sinusoidal";
    CHECK(refused(sinusoidal).find("pos_encoding") != std::string::npos);
    GPTConfig gqa = m;
    gqa.n_kv_head = 2;
    CHECK(refused(gqa).find("n_kv_head") != std::string::npos);
    GPTConfig no_bias = m;
    no_bias.bias = false;
    CHECK(refused(no_bias).find("bias") != std::string::npos);
    GPTConfig mla = m;
    mla.attention = "mla";
    mla.kv_latent_dim = 8;
    CHECK(refused(mla).find("mla") != std::string::npos);
}

TEST_CASE("tools/load_checkpoint.py gives the C++ logits for rope (GQA) and MLA checkpoints") {
    if (!have_torch()) return;
    TempDir dir;
    const auto tokenizer = CharTokenizer::train("abcdefghijkl");  // 12 tokens
    std::vector<int32_t> ids;
    std::ofstream ids_file(dir.path / "ids.txt");
    for (int i = 0; i < 32; ++i) {
        ids.push_back((i * 7 + 3) % 12);
        ids_file << ids.back() << ' ';
    }
    ids_file.close();
    GPTConfig rope;
    rope.vocab_size = 12;
    rope.n_embd = 32;
    rope.n_head = 4;
    rope.n_kv_head = 2;
    rope.n_layer = 2;
    rope.block_size = 32;
    rope.pos_encoding = "rope";
    GPTConfig mla = rope;
    mla.n_kv_head = 0;
    mla.attention = "mla";
    mla.kv_latent_dim = 12;
    mla.q_latent_dim = 16;
    for (const GPTConfig& config : {rope, mla}) {
        GPT model(config);
        Generator generator(5);
        for (auto& [name, t] : model.named_parameters())
            for (int64_t i = 0; i < t.numel(); ++i) t.data()[i] = static_cast<float>(0.3 * generator.normal());
        const fs::path path = dir.path / "model.h5";
        save_weights(path.string(), model, *tokenizer, TrainConfig{});
        const std::vector<float> mine = logits_of(path.string(), ids);
        run_python(std::string(GPT_SOURCE_DIR) + "/tools/load_checkpoint.py " + path.string() + " --ids-file " +
                   (dir.path / "ids.txt").string() + " --logits-out " + (dir.path / "loader.bin").string());
        const double error = max_relative(read_floats(dir.path / "loader.bin"), mine);
        MESSAGE(config.attention << ": tools/load_checkpoint.py vs C++ logits, max relative error " << error);
        CHECK(error <= 1e-4);
    }
}

TEST_CASE("export of a character-level model writes a vocabulary that decodes its ids (both formats)") {
    TempDir dir;
    const std::string text = "héllo, world: wörds\n";
    const auto tokenizer = CharTokenizer::train(text);
    GPTConfig m;
    m.vocab_size = tokenizer->vocab_size();
    m.n_embd = 16;
    m.n_head = 2;
    m.n_layer = 1;
    m.block_size = 8;
    GPT model(m);
    const fs::path path = dir.path / "char.h5";
    save_weights(path.string(), model, *tokenizer, TrainConfig());
    const std::vector<int32_t> ids = tokenizer->encode(text);
    for (const char* format : {"hf", "safetensors"}) {
        const fs::path out = dir.path / format;
        const std::string summary = export_checkpoint(path, format, out);
        CHECK(summary.find("gpt_cpp_tokenizer.json") != std::string::npos);
        std::ifstream in(out / "gpt_cpp_tokenizer.json");
        REQUIRE(in);
        const nlohmann::json json = nlohmann::json::parse(in);
        CHECK(json["type"] == "char");
        const std::vector<std::string> tokens = json["tokens"].get<std::vector<std::string>>();
        REQUIRE(tokens.size() == size_t(tokenizer->vocab_size()));
        std::string decoded;
        for (int32_t id : ids)
            for (size_t i = 0; i < tokens[size_t(id)].size(); i += 2)
                decoded += char(std::stoi(tokens[size_t(id)].substr(i, 2), nullptr, 16));
        CHECK(decoded == text);
    }
}

TEST_CASE("safetensors headers that are deep, overflowing or overlapping are refused with one short line") {
    TempDir dir;
    const fs::path file = dir.path / "model.safetensors";
    const auto write = [&](const std::string& header, size_t data_bytes) {
        std::string bytes(8, '\0');
        for (int i = 0; i < 8; ++i) bytes[size_t(i)] = char((uint64_t(header.size()) >> (8 * i)) & 0xff);
        std::ofstream(file, std::ios::binary | std::ios::trunc) << bytes << header << std::string(data_bytes, '\0');
    };
    const auto error_for = [&](const std::string& header, size_t data_bytes) {
        write(header, data_bytes);
        return error_of([&] { SafetensorsFile{file}; });
    };
    // A shape nested 1,000,000 deep (issue 27: the error path's dump() recursed, exit 139).
    const size_t deep = 1000000;
    std::string error = error_for("{\"w\": {\"dtype\": \"F32\", \"shape\": " + std::string(deep, '[') + std::string(deep, ']') +
                                      ", \"data_offsets\": [0, 0]}}",
                                  0);
    CHECK_MESSAGE(error.find("nests arrays or objects 1000002 deep") != std::string::npos, error);
    CHECK(error.size() < 300);
    // A shape whose product overflows 64 bits ([2^40, 2^24] was 0 elements, accepted).
    error = error_for("{\"w\": {\"dtype\": \"F32\", \"shape\": [1099511627776, 16777216], \"data_offsets\": [0, 0]}}", 0);
    CHECK_MESSAGE(error.find("tensor w: shape [1099511627776, 16777216, ...] has over 2^40 elements") != std::string::npos, error);
    // An overlap hidden behind an empty tensor between the two.
    error = error_for("{\"a\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [0, 16]},"
                      " \"e\": {\"dtype\": \"F32\", \"shape\": [0], \"data_offsets\": [8, 8]},"
                      " \"b\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [8, 24]}}",
                      24);
    CHECK_MESSAGE(error.find("tensor b: data overlaps tensor a") != std::string::npos, error);
    // A tensor inside another one's range, not adjacent to it in the order by start.
    error = error_for("{\"a\": {\"dtype\": \"F32\", \"shape\": [8], \"data_offsets\": [0, 32]},"
                      " \"b\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 8]},"
                      " \"c\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [12, 16]}}",
                      32);
    CHECK_MESSAGE(error.find("data overlaps tensor a") != std::string::npos, error);
    // A 1 MB tensor name and a 1 MB dtype are quoted, cut to a short excerpt.
    error = error_for("{\"" + std::string(1 << 20, 'n') + "\": {\"dtype\": \"" + std::string(1 << 20, 'd') +
                          "\", \"shape\": [1], \"data_offsets\": [0, 4]}}",
                      4);
    CHECK_MESSAGE(error.size() < 400, error.substr(0, 400));
    CHECK(error.find("(1048576 bytes)") != std::string::npos);
    // Valid: touching ranges and empty tensors anywhere.
    write("{\"a\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [0, 16]},"
          " \"e\": {\"dtype\": \"F32\", \"shape\": [0, 5], \"data_offsets\": [16, 16]},"
          " \"b\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [16, 24]}}",
          24);
    CHECK_NOTHROW(SafetensorsFile{file});
}

TEST_CASE("GPT-2 tokenizer files: a deeply nested encoder.json and a huge merge line give one short error") {
    TempDir dir;
    std::ofstream(dir.path / "vocab.bpe") << "#version: 0.2\n";
    const size_t deep = 1000000;
    std::ofstream(dir.path / "encoder.json") << "{\"a\": " << std::string(deep, '[') << std::string(deep, ']') << "}";
    std::string error = error_of([&] { Gpt2Tokenizer::from_files(dir.path); });
    CHECK_MESSAGE(error.find("encoder.json: nests arrays or objects 1000001 deep") != std::string::npos, error);
    // A 10 MB merge line is quoted in at most a few hundred bytes.
    std::string vocab = "{";
    for (int b = 0; b < 256; ++b) {
        vocab += '"';
        vocab += char('A' + b % 26);
        vocab += std::to_string(b);
        vocab += "\": ";
        vocab += std::to_string(b);
        vocab += ", ";
    }
    vocab += "\"x\": 256}";
    std::ofstream(dir.path / "encoder.json", std::ios::trunc) << vocab;
    std::ofstream(dir.path / "vocab.bpe", std::ios::trunc) << "#version: 0.2\n" << std::string(10 << 20, 'q') << "\n";
    error = error_of([&] { Gpt2Tokenizer::from_files(dir.path); });
    CHECK_MESSAGE(error.find("merge line 1") != std::string::npos, error.substr(0, 400));
    CHECK_MESSAGE(error.size() < 400, error.substr(0, 400));
}

TEST_CASE("import and export follow the output-path rule; a config that claims more than the file holds is refused early") {
    if (!have_torch()) return;
    TempDir dir;
    std::vector<int32_t> ids;
    const fs::path hf = dir.path / "hf";
    fs::create_directories(hf);
    make_hf_folder(hf, "--dtype F32", ids);
    // OUT a FIFO: refused, not replaced by a regular file (issue 27).
    const fs::path fifo = dir.path / "fifo";
    REQUIRE(mkfifo(fifo.c_str(), 0644) == 0);
    CHECK(error_of([&] { import_hf_gpt2(hf, fifo); }).find("OUT " + fifo.string() + ": is a FIFO") != std::string::npos);
    CHECK(fs::is_fifo(fifo));
    // OUT a run's checkpoint: refused unless overwrite.
    const fs::path run = dir.path / "run";
    fs::create_directories(run);
    std::ofstream(run / "metrics.jsonl") << "{}\n";
    std::ofstream(run / "ckpt.h5") << "trained";
    CHECK(error_of([&] { import_hf_gpt2(hf, run / "ckpt.h5"); }).find("is a run's checkpoint") != std::string::npos);
    CHECK(std::ifstream(run / "ckpt.h5").get() == 't');
    ImportOptions overwrite;
    overwrite.overwrite = true;
    CHECK_NOTHROW(import_hf_gpt2(hf, run / "ckpt.h5", overwrite));
    // config.json claiming n_embd 2048 over the small file: refused from the shapes, before the model is built.
    const fs::path big = dir.path / "big";
    fs::copy(hf, big);
    nlohmann::json config = nlohmann::json::parse(std::ifstream(big / "config.json"));
    config["n_embd"] = 2048;
    std::ofstream(big / "config.json", std::ios::trunc) << config.dump();
    const std::string claimed = error_of([&] { import_hf_gpt2(big, dir.path / "big.h5"); });
    CHECK_MESSAGE(claimed.find("describes a model of 101312512 parameters") != std::string::npos, claimed);
    CHECK_MESSAGE(claimed.find("holds 70512") != std::string::npos, claimed);
    CHECK_FALSE(fs::exists(dir.path / "big.h5"));
    // Export: a folder or a device where a file goes is refused, and nothing is half-written.
    const fs::path ok = dir.path / "ok.h5";
    import_hf_gpt2(hf, ok);
    const fs::path out = dir.path / "out";
    fs::create_directories(out / "config.json");
    CHECK(error_of([&] { export_checkpoint(ok, "hf", out); }).find("out/config.json: is a directory") != std::string::npos);
    CHECK_FALSE(fs::exists(out / "model.safetensors"));
    fs::remove_all(out);
    fs::create_directories(out);
    fs::create_symlink("/dev/full", out / "vocab.json");
    CHECK(error_of([&] { export_checkpoint(ok, "hf", out); }).find("out/vocab.json: is a character device") != std::string::npos);
    CHECK_FALSE(fs::exists(out / "model.safetensors"));
    for (const auto& entry : fs::directory_iterator(dir.path))
        CHECK_MESSAGE(entry.path().filename().string().find("export-tmp") == std::string::npos, entry.path().string());
    // A fresh folder gets every file.
    CHECK_NOTHROW(export_checkpoint(ok, "hf", dir.path / "fresh"));
    for (const char* name : {"config.json", "model.safetensors", "vocab.json", "merges.txt"})
        CHECK_MESSAGE(fs::is_regular_file(dir.path / "fresh" / name), name);
}
