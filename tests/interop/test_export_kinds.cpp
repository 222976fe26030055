// gpt export for the model kinds other than gpt: bert and the encoder–decoder (model = transformer) keep
// this project's names in safetensors, with their kind in config.json; Hugging Face's GPT-2 layout,
// which would hold neither, refuses both naming the kind.
#include <doctest/doctest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "checkpoint/encoder_decoder_file.h"
#include "data/char_tokenizer.h"
#include "interop/gpt2_interop.h"
#include "interop/safetensors.h"
#include "interop_test_util.h"
#include "nn/gpt.h"
#include "nn/init.h"
#include "train/checkpoint.h"

using namespace gpt;
using gpt::test::TempDir, gpt::test::error_of;
namespace fs = std::filesystem;

TEST_CASE("export of bert and the encoder-decoder: their own names and kind; Hugging Face's GPT-2 layout refused") {
    TempDir dir;
    const auto tokenizer = CharTokenizer::train("abcdefgh\n");
    // bert: a causal GPT2LMHeadModel would silently compute something else.
    GPTConfig m;
    m.kind = "bert";
    m.vocab_size = tokenizer->vocab_size();
    m.n_embd = 16;
    m.n_head = 2;
    m.n_layer = 1;
    m.block_size = 8;
    const fs::path bert = dir.path / "bert.h5";
    save_weights(bert.string(), GPT(m), *tokenizer, TrainConfig());
    CHECK(error_of([&] { export_checkpoint(bert, "hf", dir.path / "bert_hf"); }).find("model is \"bert\"") !=
          std::string::npos);
    CHECK_FALSE(fs::exists(dir.path / "bert_hf"));
    export_checkpoint(bert, "safetensors", dir.path / "bert_own");
    std::ifstream bert_config(dir.path / "bert_own" / "config.json");
    CHECK(nlohmann::json::parse(bert_config)["model"] == "bert");

    // model = transformer: every parameter under its own name, bit for bit; the config names the kind.
    EncoderDecoderConfig c;
    c.source_vocab_size = c.target_vocab_size = tokenizer->vocab_size() + 2;
    c.source_block_size = c.target_block_size = 8;
    c.n_encoder_layer = c.n_decoder_layer = 1;
    c.n_head = 2;
    c.n_embd = 16;
    EncoderDecoder model(c);
    Generator generator(3);
    init_encoder_decoder(model, generator);
    const fs::path ed = dir.path / "ed.h5";
    save_encoder_decoder(ed.string(), model, *tokenizer, "");
    CHECK(error_of([&] { export_checkpoint(ed, "hf", dir.path / "ed_hf"); }).find("model is \"transformer\"") !=
          std::string::npos);
    const std::string summary = export_checkpoint(ed, "safetensors", dir.path / "ed_own");
    CHECK(summary.find("gpt_cpp_tokenizer.json") != std::string::npos);
    const SafetensorsFile own(dir.path / "ed_own" / "model.safetensors");
    const NamedTensors parameters = model.named_parameters();
    CHECK(own.entries().size() == parameters.size());
    for (const auto& [name, tensor] : parameters) {
        const SafetensorsEntry* e = own.find(name);
        REQUIRE(e);
        const std::vector<float> values = own.read(*e);
        REQUIRE(values.size() == static_cast<size_t>(tensor.numel()));
        CHECK(std::memcmp(values.data(), tensor.data(), values.size() * 4) == 0);
    }
    std::ifstream ed_config(dir.path / "ed_own" / "config.json");
    const nlohmann::json config = nlohmann::json::parse(ed_config);
    CHECK(config["model"] == "transformer");
    CHECK(config["n_encoder_layer"] == 1);
    CHECK(config["eos_id"] == tokenizer->vocab_size() + 1);
}
