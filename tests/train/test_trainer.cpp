// The training loop's scope guards: whatever way run_train leaves — an exception from a save, a
// non-finite step — the stop handlers are back to SIG_DFL and the op profiler is off.
#include <doctest/doctest.h>

#include <csignal>
#include <filesystem>
#include <fstream>

#include "autograd/profile.h"
#include "train/trainer.h"
#include "tiny_corpus.h"

using namespace gpt;
namespace fs = std::filesystem;

namespace {

TrainConfig tiny_config(const fs::path& corpus, const fs::path& out_dir) {
    TrainConfig c;
    c.data = corpus.string();
    c.out_dir = out_dir.string();
    c.model.n_layer = 1;
    c.model.n_head = 2;
    c.model.n_embd = 16;
    c.model.block_size = 8;
    c.batch_size = 2;
    c.max_iters = 3;
    c.warmup_iters = 1;
    c.eval_interval = 1;  // evaluate and save after every step
    c.eval_iters = 1;
    c.log_interval = 1;
    c.sample_tokens = 0;
    c.threads = 1;
    c.profile = true;
    return c;
}

bool handler_is_default(int signal_number) {
    struct sigaction action {};
    REQUIRE(sigaction(signal_number, nullptr, &action) == 0);
    return action.sa_handler == SIG_DFL;
}

}  // namespace

TEST_CASE("a save that throws leaves no stop handler installed and the profiler off") {
    const fs::path root = fs::temp_directory_path() / "gpt_test_trainer_save_throws";
    fs::remove_all(root);
    const fs::path corpus = test::write_word_corpus(root, 7);
    // ckpt.h5 is a folder with something in it: the atomic rename of the first checkpoint onto it fails.
    fs::create_directories(root / "run" / "ckpt.h5");
    std::ofstream(root / "run" / "ckpt.h5" / "keep") << "x";
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);

    CHECK_THROWS(run_train(tiny_config(corpus, root / "run"), [](const std::string&) { return false; }));
    CHECK(handler_is_default(SIGINT));
    CHECK(handler_is_default(SIGTERM));
    CHECK_FALSE(profile::enabled());
    fs::remove_all(root);
}

TEST_CASE("a non-finite step stops the run with the stop handlers restored and the profiler off") {
    const fs::path root = fs::temp_directory_path() / "gpt_test_trainer_nonfinite";
    fs::remove_all(root);
    const fs::path corpus = test::write_word_corpus(root, 7);
    TrainConfig config = tiny_config(corpus, root / "run");
    config.lr = 1e30;
    config.min_lr = 0.0;
    config.lr_schedule = "constant";
    config.max_iters = 20;
    config.eval_interval = 100;
    CHECK(run_train(config, [](const std::string&) { return false; }) == kExitNonFinite);
    CHECK(handler_is_default(SIGINT));
    CHECK(handler_is_default(SIGTERM));
    CHECK_FALSE(profile::enabled());
    fs::remove_all(root);
}
