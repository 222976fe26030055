// --init_from for model = transformer (train/run_start.cpp): a new encoder–decoder run starts from another
// run's weights and tokenizer, keeps its shape (a differing shape option is refused), and another kind
// of checkpoint is refused in one line.
#include <doctest/doctest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "checkpoint/encoder_decoder_file.h"
#include "train/trainer.h"
#include "tiny_corpus.h"

using namespace gpt;
namespace fs = std::filesystem;

namespace {

TrainConfig transformer_config(const fs::path& corpus, const fs::path& out_dir) {
    TrainConfig c;
    c.model_kind = "transformer";
    c.data = corpus.string();
    c.out_dir = out_dir.string();
    c.encoder_decoder.n_encoder_layer = 1;
    c.encoder_decoder.n_decoder_layer = 1;
    c.model.n_head = 2;
    c.model.n_embd = 16;
    c.model.block_size = 12;
    c.model.dropout = 0.0;
    c.batch_size = 4;
    c.max_iters = 4;
    c.warmup_iters = 1;
    c.eval_interval = 100;
    c.eval_iters = 1;
    c.log_interval = 1;
    c.threads = 1;
    return c;
}

}  // namespace

TEST_CASE("model = transformer: init_from starts from the checkpoint's weights and tokenizer, in its shape") {
    const fs::path root = fs::temp_directory_path() / "gpt_test_init_from_transformer";
    fs::remove_all(root);
    const fs::path corpus = test::write_reversal_pairs(root, 41, 200, 5);
    auto none_given = [](const std::string&) { return false; };
    REQUIRE(run_train(transformer_config(corpus, root / "base"), none_given) == 0);

    // A fine-tuning run whose one step cannot move a weight (lr 1e-30, no weight decay): it holds the
    // base run's weights bit for bit, and its tokenizer. Its own config leaves the shape unset.
    TrainConfig tune;
    tune.data = corpus.string();
    tune.out_dir = (root / "tune").string();
    tune.init_from = (root / "base").string();
    tune.max_iters = 1;
    tune.lr = 1e-30;
    tune.min_lr = 0.0;
    tune.lr_schedule = "constant";
    tune.weight_decay = 0.0;
    tune.eval_interval = 100;
    tune.eval_iters = 1;
    tune.threads = 1;
    REQUIRE(run_train(tune, none_given) == 0);
    const LoadedEncoderDecoder base = load_encoder_decoder((root / "base" / "ckpt.h5").string());
    const LoadedEncoderDecoder tuned = load_encoder_decoder((root / "tune" / "ckpt.h5").string());
    CHECK(tuned.config.n_embd == 16);
    CHECK(tuned.config.target_block_size == 12);
    CHECK(tuned.tokenizer->state().token_bytes == base.tokenizer->state().token_bytes);
    const NamedTensors a = base.model->named_parameters(), b = tuned.model->named_parameters();
    REQUIRE(a.size() == b.size());
    for (size_t i = 0; i < a.size(); ++i) {
        INFO(a[i].first);
        CHECK(a[i].first == b[i].first);
        CHECK(std::memcmp(a[i].second.data(), b[i].second.data(), static_cast<size_t>(a[i].second.numel()) * 4) == 0);
    }

    // A shape given now that differs from the checkpoint's; a checkpoint of another kind.
    TrainConfig wider = tune;
    wider.out_dir = (root / "wider").string();
    wider.model.n_embd = 32;
    CHECK_THROWS_WITH(run_train(wider, [](const std::string& n) { return n == "n_embd"; }),
                      doctest::Contains("init_from: option n_embd = 32 differs from"));
    TrainConfig as_gpt = tune;
    as_gpt.out_dir = (root / "as_gpt").string();
    as_gpt.model_kind = "gpt";
    CHECK_THROWS_WITH(run_train(as_gpt, [](const std::string& n) { return n == "model"; }),
                      doctest::Contains("is a model = transformer checkpoint; a model = gpt run starts from one of its own kind"));
    fs::remove_all(root);
}
