// Weights round trip through HDF5 exactly; damaged files give one clear error, never a crash.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>

#include <hdf5.h>

#include "data/char_tokenizer.h"
#include "io/hdf5.h"
#include "nn/init.h"
#include "train/checkpoint.h"

using namespace gpt;
namespace fs = std::filesystem;

namespace {

GPTConfig small_config(const std::string& pos = "learned", int64_t kv = 2) {
    GPTConfig c;
    c.vocab_size = 12;
    c.block_size = 8;
    c.n_layer = 2;
    c.n_head = 4;
    c.n_kv_head = kv;
    c.n_embd = 16;
    c.pos_encoding = pos;
    return c;
}

std::unique_ptr<Tokenizer> twelve_char_tokenizer() { return CharTokenizer::train("abcdefghijkl"); }

std::vector<float> logits_of(const GPT& model) {
    NoGradGuard no_grad;
    Generator unused(0);
    std::vector<int32_t> ids{1, 5, 3, 7, 0, 11, 2, 4};
    return model.forward(ids, 1, 8, unused).to_vector();
}

fs::path temp_file(const std::string& name) { return fs::temp_directory_path() / ("gpt_test_ckpt_" + name); }

}  // namespace

TEST_CASE("a saved model loads back with identical logits, for both position encodings") {
    for (const char* pos : {"learned", "sinusoidal"}) {
        GPT model(small_config(pos, 1));
        Generator generator(11);
        init_gpt2(model, generator);
        const fs::path path = temp_file(std::string("roundtrip_") + pos + ".h5");
        save_weights(path.string(), model, *twelve_char_tokenizer(), TrainConfig{});
        const LoadedCheckpoint loaded = load_checkpoint(path.string());
        CHECK(loaded.model_config.pos_encoding == pos);
        CHECK(loaded.model_config.n_kv_head == 1);
        CHECK(loaded.tokenizer->vocab_size() == 12);
        CHECK_FALSE(loaded.has_training_state);
        CHECK(logits_of(*loaded.model) == logits_of(model));  // bit-identical
        fs::remove(path);
    }
}

TEST_CASE("rope and mla models load back with their config and identical logits; mha writes no mla keys") {
    GPTConfig rope = small_config("rope", 2), mla = small_config("rope", 0);
    mla.attention = "mla";
    mla.kv_latent_dim = 6;
    mla.q_latent_dim = 10;
    mla.rope_head_dim = 2;
    for (const GPTConfig& config : {rope, mla}) {
        GPT model(config);
        Generator generator(12);
        init_gpt2(model, generator);
        const fs::path path = temp_file("roundtrip_" + config.attention + ".h5");
        save_weights(path.string(), model, *twelve_char_tokenizer(), TrainConfig{});
        const LoadedCheckpoint loaded = load_checkpoint(path.string());
        const GPTConfig& c = loaded.model_config;
        CHECK(c.pos_encoding == "rope");
        CHECK(c.attention == config.attention);
        CHECK(c.kv_latent_dim == config.kv_latent_dim);
        CHECK(c.q_latent_dim == config.q_latent_dim);
        CHECK(c.rope_head_dim == config.rope_head_dim);
        CHECK(logits_of(*loaded.model) == logits_of(model));
        H5File file = H5File::open_read(path.string());
        // An mha checkpoint keeps the layout older builds wrote (and older files lack the keys: "mha").
        CHECK(file.open_group("config").has_attr("attention") == config.mla());
        file.close();
        fs::remove(path);
    }
}

TEST_CASE("issue 31's options load back from /config with identical logits; defaults write no attribute") {
    GPTConfig modern = small_config("rope", 2);
    modern.norm = "rmsnorm";
    modern.mlp = "swiglu";
    modern.mlp_hidden = 24;
    modern.qk_norm = true;
    modern.tie_embeddings = false;
    for (const GPTConfig& config : {small_config(), modern}) {
        GPT model(config);
        Generator generator(13);
        init_gpt2(model, generator);
        const fs::path path = temp_file("roundtrip_modern_" + config.norm + ".h5");
        save_weights(path.string(), model, *twelve_char_tokenizer(), TrainConfig{});
        const LoadedCheckpoint loaded = load_checkpoint(path.string());
        const GPTConfig& c = loaded.model_config;
        CHECK(c.norm == config.norm);
        CHECK(c.mlp == config.mlp);
        CHECK(c.mlp_hidden == config.mlp_hidden);
        CHECK(c.qk_norm == config.qk_norm);
        CHECK(c.tie_embeddings == config.tie_embeddings);
        CHECK(logits_of(*loaded.model) == logits_of(model));
        H5File file = H5File::open_read(path.string());
        const bool is_default = config.norm == "layernorm";
        for (const char* key : {"norm", "mlp", "mlp_hidden", "qk_norm", "tie_embeddings"})
            CHECK(file.open_group("config").has_attr(key) == !is_default);
        CHECK(file.open_group("model").is_dataset("lm_head.weight") == !is_default);
        file.close();
        fs::remove(path);
    }
}

// model = bert: /config says "bert" and the model loads back bidirectional (position 0's logits depend on
// the tokens after it, unlike the causal model with the same weights); /model's `model` says which.
TEST_CASE("a bert model loads back as bert with identical logits; a gpt file says gpt") {
    GPTConfig config = small_config("sinusoidal", 0);
    config.kind = "bert";
    GPT bert(config);
    Generator generator(17);
    init_gpt2(bert, generator);
    const fs::path path = temp_file("roundtrip_bert.h5");
    save_weights(path.string(), bert, *twelve_char_tokenizer(), TrainConfig{});
    const LoadedCheckpoint loaded = load_checkpoint(path.string());
    CHECK(loaded.model_config.kind == "bert");
    CHECK(loaded.model_config.bidirectional());
    CHECK(logits_of(*loaded.model) == logits_of(bert));
    CHECK(H5File::open_read(path.string()).open_group("model").attr_string("model") == "bert");
    // The same weights in a causal GPT: the last position sees everything in both (equal up to the
    // summation order of the attention), the first sees only itself in the GPT.
    GPTConfig causal_config = config;
    causal_config.kind = "gpt";
    GPT causal(causal_config);
    const NamedTensors from = bert.named_parameters();
    const NamedTensors to = causal.named_parameters();
    for (size_t k = 0; k < from.size(); ++k) std::copy_n(from[k].second.data(), from[k].second.numel(), to[k].second.data());
    const std::vector<float> a = logits_of(bert), b = logits_of(causal);
    const size_t V = 12;
    float first = 0.0f, last = 0.0f;  // the largest difference of position 0's and position 7's logits
    for (size_t v = 0; v < V; ++v) {
        first = std::max(first, std::abs(a[v] - b[v]));
        last = std::max(last, std::abs(a[7 * V + v] - b[7 * V + v]));
    }
    MESSAGE("bert vs causal, same weights: position 0 differs by " << first << ", position 7 by " << last);
    CHECK(last < 5e-5f);
    CHECK(first > 10.0f * last);
    fs::remove(path);
    const fs::path gpt_path = temp_file("roundtrip_gpt_no_model.h5");
    save_weights(gpt_path.string(), causal, *twelve_char_tokenizer(), TrainConfig{});
    CHECK(H5File::open_read(gpt_path.string()).open_group("model").attr_string("model") == "gpt");
    CHECK(load_checkpoint(gpt_path.string()).model_config.kind == "gpt");
    fs::remove(gpt_path);
}

// Edits a valid checkpoint in place with the HDF5 C API (the project's wrapper only writes new files).
void edit_file(const fs::path& path, const std::function<void(hid_t)>& edit) {
    const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    REQUIRE(file >= 0);
    edit(file);
    H5Fclose(file);
}

void set_int_attribute(hid_t file, const char* group, const char* name, int64_t value) {
    const hid_t g = H5Gopen2(file, group, H5P_DEFAULT);
    const hid_t a = H5Aopen(g, name, H5P_DEFAULT);
    H5Awrite(a, H5T_NATIVE_INT64, &value);
    H5Aclose(a);
    H5Gclose(g);
}

fs::path valid_checkpoint(const std::string& name) {
    GPT model(small_config());
    Generator generator(3);
    init_gpt2(model, generator);
    const fs::path path = temp_file(name);
    save_weights(path.string(), model, *twelve_char_tokenizer(), TrainConfig{});
    return path;
}

void check_refused(const fs::path& path, const std::string& expected) {
    INFO(path.string());
    CHECK_THROWS_WITH_AS(load_checkpoint(path.string()), doctest::Contains(expected.c_str()), std::runtime_error);
    fs::remove(path);
}

TEST_CASE("damaged checkpoints are refused with a message naming the problem") {
    SUBCASE("missing dataset") {
        const fs::path path = valid_checkpoint("missing.h5");
        edit_file(path, [](hid_t f) { H5Ldelete(f, "/model/h.1.mlp.c_fc.bias", H5P_DEFAULT); });
        check_refused(path, "/model/h.1.mlp.c_fc.bias is missing");
    }
    SUBCASE("wrong shape") {
        const fs::path path = valid_checkpoint("shape.h5");
        edit_file(path, [](hid_t f) {
            H5Ldelete(f, "/model/ln_f.weight", H5P_DEFAULT);
            const hsize_t dims[1] = {17};
            const hid_t space = H5Screate_simple(1, dims, nullptr);
            const hid_t d = H5Dcreate2(f, "/model/ln_f.weight", H5T_IEEE_F32LE, space, H5P_DEFAULT, H5P_DEFAULT,
                                       H5P_DEFAULT);
            std::vector<float> values(17, 1.0f);
            H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data());
            H5Dclose(d);
            H5Sclose(space);
        });
        check_refused(path, "ln_f.weight");
    }
    SUBCASE("unknown format_version") {
        const fs::path path = valid_checkpoint("version.h5");
        edit_file(path, [](hid_t f) { set_int_attribute(f, "/meta", "format_version", 99); });
        check_refused(path, "format_version 99 is not supported");
    }
    SUBCASE("tokenizer disagrees with the model's vocab_size") {
        const fs::path path = valid_checkpoint("vocab.h5");
        edit_file(path, [](hid_t f) { set_int_attribute(f, "/config", "vocab_size", 13); });
        check_refused(path, "the tokenizer has 12 tokens but the model's vocab_size is 13");
    }
    SUBCASE("truncated file") {
        const fs::path path = valid_checkpoint("truncated.h5");
        fs::resize_file(path, fs::file_size(path) / 2);
        check_refused(path, path.filename().string());
    }
    SUBCASE("random bytes") {
        const fs::path path = temp_file("random.h5");
        std::ofstream out(path, std::ios::binary);
        Generator generator(5);
        for (int i = 0; i < 4096; ++i) out.put(static_cast<char>(generator.next_u64()));
        out.close();
        check_refused(path, path.filename().string());
    }
    SUBCASE("valid HDF5 that is not a checkpoint") {
        const fs::path path = temp_file("other.h5");
        H5File file = H5File::create(path.string());
        file.write<float>("data", std::vector<float>{1, 2, 3});
        file.close();
        check_refused(path, "not a checkpoint of this project");
    }
}
