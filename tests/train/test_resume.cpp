// Exact resume: 2N steps in one go == N steps, stop, resume for N more — bit-identical weights,
// optimizer moments and losses at every step (same thread count), with dropout on so that the dropout
// generator's state is exercised too.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <set>
#include <sstream>
#include <string>

#include <unistd.h>

#include "io/hdf5.h"
#include "train/trainer.h"
#include "tiny_corpus.h"

using namespace gpt;
namespace fs = std::filesystem;

namespace {

fs::path make_corpus(const fs::path& dir) { return test::write_word_corpus(dir, 12345); }

TrainConfig tiny_config(const fs::path& corpus, const fs::path& out_dir, int64_t max_iters) {
    TrainConfig c;
    c.data = corpus.string();
    c.out_dir = out_dir.string();
    c.model.n_layer = 2;
    c.model.n_head = 2;
    c.model.n_embd = 32;
    c.model.block_size = 16;
    c.batch_size = 4;
    c.model.dropout = 0.1;
    c.max_iters = max_iters;
    c.lr_decay_iters = 8;
    c.warmup_iters = 2;
    c.eval_interval = 4;
    c.eval_iters = 2;
    c.log_interval = 1;
    c.sample_tokens = 0;
    c.threads = 2;
    return c;
}

std::vector<std::string> losses(const fs::path& metrics) {
    std::ifstream in(metrics);
    std::vector<std::string> out;
    std::string line;
    while (std::getline(in, line)) {
        const auto at = line.find("\"train_loss\": ");
        REQUIRE(at != std::string::npos);
        out.push_back(line.substr(0, line.find(',', at)));  // "step" … "train_loss": value
    }
    return out;
}

void compare_group(const H5Group& a, const H5Group& b, const std::string& name, int& compared) {
    for (const std::string& member : a.list()) {
        const std::string path = name + "/" + member;
        if (a.is_group(member)) {
            compare_group(a.open_group(member), b.open_group(member), path, compared);
            continue;
        }
        INFO(path);
        if (member == "dropout_rng" || member == "sampler_state" || member == "rank_dropout_rng") {
            CHECK(a.read<uint64_t>(member).values == b.read<uint64_t>(member).values);
        } else {
            REQUIRE(b.is_dataset(member));
            const H5Array<float> x = a.read<float>(member), y = b.read<float>(member);
            CHECK(x.shape == y.shape);
            CHECK(x.values == y.values);  // bitwise: exact resume, not approximately
        }
        ++compared;
    }
}

// `gpt train --resume RUN --max_iters N [--threads T]`: the resumed run continues RUN's folder.
int resume_run(const fs::path& run, int64_t max_iters, int64_t threads = 0) {
    TrainConfig resume;
    resume.resume = run.string();
    resume.max_iters = max_iters;
    resume.threads = threads;
    std::set<std::string> given{"resume", "max_iters"};
    if (threads > 0) given.insert("threads");
    return run_train(resume, [&](const std::string& n) { return given.count(n) > 0; });
}

// Bit-for-bit comparison of the named top-level groups of two checkpoints; the members compared.
int compare_checkpoints(const H5File& a, const H5File& b, std::initializer_list<const char*> groups) {
    int compared = 0;
    for (const char* group : groups)
        compare_group(a.open_group(group), b.open_group(group), std::string("/") + group, compared);
    return compared;
}

}  // namespace

TEST_CASE("N steps + resume + N steps is bit-identical to 2N steps") {
    const fs::path root = fs::temp_directory_path() / "gpt_test_resume";
    fs::remove_all(root);
    const fs::path corpus = make_corpus(root);
    auto none_given = [](const std::string&) { return false; };

    REQUIRE(run_train(tiny_config(corpus, root / "straight", 8), none_given) == 0);

    REQUIRE(run_train(tiny_config(corpus, root / "split", 4), none_given) == 0);
    REQUIRE(resume_run(root / "split", 8) == 0);

    H5File a = H5File::open_read((root / "straight" / "ckpt.h5").string());
    H5File b = H5File::open_read((root / "split" / "ckpt.h5").string());
    CHECK(a.open_group("train").attr_int("iter") == 8);
    CHECK(b.open_group("train").attr_int("iter") == 8);
    CHECK(a.open_group("optimizer").attr_int("step") == b.open_group("optimizer").attr_int("step"));
    const int compared = compare_checkpoints(a, b, {"model", "optimizer", "train"});
    CHECK(compared > 20);

    const auto straight = losses(root / "straight" / "metrics.jsonl");
    const auto split = losses(root / "split" / "metrics.jsonl");
    CHECK(straight.size() == 8);
    CHECK(straight == split);  // every step once, same loss text to 9 significant digits
    fs::remove_all(root);
}

// model = transformer: the same loop, the same check. A parallel corpus of reversed words; dropout and
// label smoothing on; the ExampleSampler's state, the dropout stream and AdamW's moments all go through the
// checkpoint.
TEST_CASE("model = transformer: N steps + resume + N steps is bit-identical to 2N steps") {
    const fs::path root = fs::temp_directory_path() / "gpt_test_resume_transformer";
    fs::remove_all(root);
    fs::create_directories(root);
    const fs::path corpus = test::write_reversal_pairs(root, 29, 300, 6);
    // AdamW on a char tokenizer; Muon (both stacks' matrices) on a BPE tokenizer trained on the pairs.
    for (const bool muon : {false, true}) {
        CAPTURE(muon);
        auto config = [&](const fs::path& out_dir, int64_t max_iters) {
            TrainConfig c = tiny_config(corpus, out_dir, max_iters);
            c.model_kind = "transformer";
            c.encoder_decoder.n_encoder_layer = 1;
            c.encoder_decoder.n_decoder_layer = 2;
            c.encoder_decoder.label_smoothing = 0.1;
            c.model.block_size = 12;
            if (muon) {
                c.optimizer = "muon";
                c.tokenizer = "bpe";
                c.vocab_size = 270;
            }
            return c;
        };
        const fs::path straight_dir = root / (muon ? "straight_muon" : "straight");
        const fs::path split_dir = root / (muon ? "split_muon" : "split");
        auto none_given = [](const std::string&) { return false; };
        REQUIRE(run_train(config(straight_dir, 8), none_given) == 0);
        REQUIRE(run_train(config(split_dir, 4), none_given) == 0);
        REQUIRE(resume_run(split_dir, 8) == 0);

        H5File a = H5File::open_read((straight_dir / "ckpt.h5").string());
        H5File b = H5File::open_read((split_dir / "ckpt.h5").string());
        CHECK(a.open_group("model").attr_string("model") == "transformer");
        CHECK(b.open_group("model").attr_string("model") == "transformer");
        CHECK(b.open_group("train").attr_int("iter") == 8);
        CHECK(b.open_group("tokenizer").attr_string("type") == (muon ? "bpe" : "char"));
        CHECK(b.is_group("muon") == muon);
        const int compared = muon ? compare_checkpoints(a, b, {"model", "optimizer", "muon", "train"})
                                  : compare_checkpoints(a, b, {"model", "optimizer", "train"});
        CHECK(compared > 40);

        const auto straight = losses(straight_dir / "metrics.jsonl");
        const auto split = losses(split_dir / "metrics.jsonl");
        CHECK(straight.size() == 8);
        CHECK(straight == split);
    }

    // A model option given again that differs is refused, as for a GPT; so is another kind.
    TrainConfig other;
    other.resume = (root / "split").string();
    other.max_iters = 10;
    other.model_kind = "gpt";
    const std::set<std::string> kind_given{"resume", "max_iters", "model"};
    CHECK_THROWS_WITH(run_train(other, [&](const std::string& n) { return kind_given.count(n) > 0; }),
                      doctest::Contains("option model = \"gpt\" differs from the checkpoint's \"transformer\""));
    fs::remove_all(root);
}

TEST_CASE("resume refuses a change to the model's shape and names the option") {
    const fs::path root = fs::temp_directory_path() / "gpt_test_resume_shape";
    fs::remove_all(root);
    const fs::path corpus = make_corpus(root);
    REQUIRE(run_train(tiny_config(corpus, root / "run", 2), [](const std::string&) { return false; }) == 0);
    TrainConfig resume;
    resume.resume = (root / "run").string();
    resume.model.n_embd = 64;
    const std::set<std::string> given{"resume", "n_embd"};
    CHECK_THROWS_WITH(run_train(resume, [&](const std::string& n) { return given.count(n) > 0; }),
                      doctest::Contains("n_embd"));
    fs::remove_all(root);
}

// Determinism across thread counts on one kernel path (README): N steps at 1 thread, then a resume at
// 3 threads, equals 2N steps at 2 threads, bit for bit. The shapes are large enough that every op's
// parallel branch runs (rows × channels above the thresholds, attention over several (b, h) pairs,
// GEMMs split across threads), with dropout on.
TEST_CASE("N steps at 1 thread + resume at 3 threads is bit-identical to 2N steps at 2 threads") {
    const fs::path root = fs::temp_directory_path() / ("gpt_test_threads_" + std::to_string(::getpid()));
    fs::remove_all(root);
    const fs::path corpus = make_corpus(root);
    auto config = [&](const fs::path& out, int64_t iters, int64_t threads) {
        TrainConfig c = tiny_config(corpus, out, iters);
        c.model.n_embd = 128;
        c.model.n_head = 4;
        c.model.block_size = 64;
        c.batch_size = 8;
        c.threads = threads;
        c.eval_interval = 3;
        return c;
    };
    auto none_given = [](const std::string&) { return false; };
    REQUIRE(run_train(config(root / "two", 6, 2), none_given) == 0);
    REQUIRE(run_train(config(root / "mixed", 3, 1), none_given) == 0);
    TrainConfig resume;
    resume.resume = (root / "mixed").string();
    resume.max_iters = 6;
    resume.threads = 3;
    const std::set<std::string> given{"resume", "max_iters", "threads"};
    REQUIRE(run_train(resume, [&](const std::string& n) { return given.count(n) > 0; }) == 0);

    H5File a = H5File::open_read((root / "two" / "ckpt.h5").string());
    H5File b = H5File::open_read((root / "mixed" / "ckpt.h5").string());
    const int compared = compare_checkpoints(a, b, {"model", "optimizer", "train"});
    CHECK(compared > 20);
    CHECK(losses(root / "two" / "metrics.jsonl") == losses(root / "mixed" / "metrics.jsonl"));
    fs::remove_all(root);
}

// Issue 31's options resume exactly too (RMSNorm, QK-norm, squared ReLU, untied head, rope, the
// trapezoidal schedule, and a sequence-length warm-up that is still going at the resume: 8 → 16 tokens
// over 6 steps, split after 4).
TEST_CASE("N steps + resume + N steps is bit-identical to 2N steps with rmsnorm, qk_norm, relu2, untied head") {
    const fs::path root = fs::temp_directory_path() / ("gpt_test_resume_modern_" + std::to_string(::getpid()));
    fs::remove_all(root);
    const fs::path corpus = make_corpus(root);
    auto config = [&](const fs::path& out, int64_t iters) {
        TrainConfig c = tiny_config(corpus, out, iters);
        c.model.pos_encoding = "rope";
        c.model.norm = "rmsnorm";
        c.model.qk_norm = true;
        c.model.mlp = "relu2";
        c.model.tie_embeddings = false;
        c.lr_schedule = "trapezoidal";
        c.decay_fraction = 0.5;
        c.seq_warmup_start = 8;
        c.seq_warmup_iters = 6;
        return c;
    };
    auto none_given = [](const std::string&) { return false; };
    REQUIRE(run_train(config(root / "straight", 8), none_given) == 0);
    REQUIRE(run_train(config(root / "split", 4), none_given) == 0);
    REQUIRE(resume_run(root / "split", 8) == 0);
    H5File a = H5File::open_read((root / "straight" / "ckpt.h5").string());
    H5File b = H5File::open_read((root / "split" / "ckpt.h5").string());
    CHECK(b.open_group("model").is_dataset("lm_head.weight"));
    CHECK(b.open_group("model").is_dataset("h.0.attn.q_norm.weight"));
    const int compared = compare_checkpoints(a, b, {"model", "optimizer", "train"});
    CHECK(compared > 20);
    CHECK(losses(root / "straight" / "metrics.jsonl") == losses(root / "split" / "metrics.jsonl"));
    fs::remove_all(root);
}

// Muon (optim/muon.h) for the blocks' matrices, AdamW for the rest: its momentum goes into /muon and the
// run continues bit for bit — also when the second half runs at another thread count (the Newton–Schulz
// products are the project's deterministic SGEMM). A run asking for the other optimizer is refused.
TEST_CASE("N steps + resume + N steps is bit-identical to 2N steps with optimizer muon") {
    const fs::path root = fs::temp_directory_path() / ("gpt_test_resume_muon_" + std::to_string(::getpid()));
    fs::remove_all(root);
    const fs::path corpus = make_corpus(root);
    auto config = [&](const fs::path& out, int64_t iters, int64_t threads) {
        TrainConfig c = tiny_config(corpus, out, iters);
        c.optimizer = "muon";
        c.muon_lr = 0.05;
        c.muon_weight_decay = 0.01;
        c.threads = threads;
        return c;
    };
    auto none_given = [](const std::string&) { return false; };
    REQUIRE(run_train(config(root / "straight", 8, 2), none_given) == 0);
    REQUIRE(run_train(config(root / "split", 4, 1), none_given) == 0);

    TrainConfig wrong;  // the checkpoint holds Muon's state; AdamW alone cannot continue it
    wrong.resume = (root / "split").string();
    wrong.max_iters = 8;
    wrong.optimizer = "adamw";
    const std::set<std::string> wrong_given{"resume", "max_iters", "optimizer"};
    CHECK_THROWS_WITH_AS(run_train(wrong, [&](const std::string& n) { return wrong_given.count(n) > 0; }),
                         doctest::Contains("written with optimizer muon"), std::runtime_error);

    REQUIRE(resume_run(root / "split", 8, 2) == 0);
    H5File a = H5File::open_read((root / "straight" / "ckpt.h5").string());
    H5File b = H5File::open_read((root / "split" / "ckpt.h5").string());
    REQUIRE(b.is_group("muon"));
    CHECK(b.open_group("muon").attr_int("step") == 8);
    CHECK(b.open_group("muon").is_dataset("momentum/h.0.mlp.c_fc.weight"));
    CHECK_FALSE(b.open_group("optimizer").exists("m/h.0.mlp.c_fc.weight"));  // Muon's, not AdamW's
    CHECK(b.open_group("optimizer").is_dataset("m/wte.weight"));
    const int compared = compare_checkpoints(a, b, {"model", "optimizer", "muon", "train"});
    CHECK(compared > 20);
    CHECK(losses(root / "straight" / "metrics.jsonl") == losses(root / "split" / "metrics.jsonl"));
    fs::remove_all(root);
}

// model = bert (data/masked_lm.h): the masks come from the sampler's stream, whose state the checkpoint
// holds, so a resumed run (here at another thread count) masks, and so trains, bit for bit as the
// uninterrupted one. The checkpoint says "bert" (/model's `model` attribute).
TEST_CASE("N steps + resume + N steps is bit-identical to 2N steps with model bert") {
    const fs::path root = fs::temp_directory_path() / ("gpt_test_resume_bert_" + std::to_string(::getpid()));
    fs::remove_all(root);
    const fs::path corpus = make_corpus(root);
    auto config = [&](const fs::path& out, int64_t iters, int64_t threads) {
        TrainConfig c = tiny_config(corpus, out, iters);
        c.model_kind = "bert";
        c.model.pos_encoding = "sinusoidal";
        c.threads = threads;
        return c;
    };
    auto none_given = [](const std::string&) { return false; };
    REQUIRE(run_train(config(root / "straight", 8, 2), none_given) == 0);
    REQUIRE(run_train(config(root / "split", 4, 1), none_given) == 0);
    REQUIRE(resume_run(root / "split", 8, 3) == 0);
    H5File a = H5File::open_read((root / "straight" / "ckpt.h5").string());
    H5File b = H5File::open_read((root / "split" / "ckpt.h5").string());
    CHECK(b.open_group("model").attr_string("model") == "bert");
    const int compared = compare_checkpoints(a, b, {"model", "optimizer", "train"});
    CHECK(compared > 20);
    const auto straight = losses(root / "straight" / "metrics.jsonl");
    CHECK(straight.size() == 8);
    CHECK(straight == losses(root / "split" / "metrics.jsonl"));
    // A gpt run of the same shape trains on other targets: the bert losses are not the gpt ones.
    REQUIRE(run_train(tiny_config(corpus, root / "gpt", 2), none_given) == 0);
    CHECK(!b.open_group("config").has_attr("vocab_used"));
    CHECK(H5File::open_read((root / "gpt" / "ckpt.h5").string()).open_group("model").attr_string("model") == "gpt");
    CHECK(losses(root / "gpt" / "metrics.jsonl")[1] != straight[1]);
    fs::remove_all(root);
}
