// The config format (train/config.h): numbers written as people type them and read back bit-identical,
// integers refused (never clamped) out of range, one boolean convention, nanoGPT's names as aliases,
// did-you-mean for unknown keys.
#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>

#include "train/config.h"

using namespace gpt;

namespace {

auto all = [](const std::string&) { return true; };

std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const std::invalid_argument& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST_CASE("format_double: the shortest text that reads back the same") {
    CHECK(format_double(0.1) == "0.1");
    CHECK(format_double(0.99) == "0.99");
    CHECK(format_double(1e-3) == "0.001");
    CHECK(format_double(1e-4) == "1e-4");
    CHECK(format_double(3e-10) == "3e-10");
    CHECK(format_double(1.0) == "1.0");
    CHECK(format_double(0.0) == "0.0");
    CHECK(format_double(-2.5) == "-2.5");
    CHECK(format_double(1e30) == "1e30");
    CHECK(format_double(1e300) == "1e300");
    CHECK(format_double(std::numeric_limits<double>::infinity()) == "inf");

    std::mt19937_64 random(7);
    for (int i = 0; i < 20000; ++i) {
        const double v = std::bit_cast<double>(random());
        if (!std::isfinite(v)) continue;
        const double back = parse_double(format_double(v));
        REQUIRE(std::bit_cast<uint64_t>(back) == std::bit_cast<uint64_t>(v));
    }
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    for (int i = 0; i < 20000; ++i) {
        const double v = uniform(random);
        REQUIRE(std::bit_cast<uint64_t>(parse_double(format_double(v))) == std::bit_cast<uint64_t>(v));
    }
}

TEST_CASE("parse_int64 refuses out-of-range integers instead of clamping") {
    CHECK(parse_int64("1337") == 1337);
    CHECK(parse_int64("+5") == 5);
    CHECK(parse_int64("-5") == -5);
    CHECK(parse_int64("9223372036854775807") == std::numeric_limits<int64_t>::max());
    CHECK(parse_int64("-9223372036854775808") == std::numeric_limits<int64_t>::min());
    CHECK(error_of([] { parse_int64("99999999999999999999"); }).find("out of range") != std::string::npos);
    CHECK(error_of([] { parse_int64("9223372036854775808"); }).find("out of range") != std::string::npos);
    CHECK(error_of([] { parse_int64("-99999999999999999999"); }).find("out of range") != std::string::npos);
    CHECK(error_of([] { parse_int64("1.5"); }) == "expected an integer, got '1.5'");
    CHECK_THROWS_AS(parse_int64(""), std::invalid_argument);
    CHECK_THROWS_AS(parse_int64("12abc"), std::invalid_argument);
    CHECK_THROWS_AS(parse_int64("+-3"), std::invalid_argument);
    CHECK_THROWS_AS(parse_double("1e999"), std::invalid_argument);
    CHECK_THROWS_AS(parse_double("0.1x"), std::invalid_argument);
    CHECK(parse_double("1e-3") == 1e-3);
    CHECK(parse_double("+0.5") == 0.5);
}

TEST_CASE("one boolean convention") {
    for (const char* yes : {"true", "True", "TRUE", "1", "yes", "Yes"}) CHECK(parse_bool(yes));
    for (const char* no : {"false", "False", "FALSE", "0", "no", "No"}) CHECK_FALSE(parse_bool(no));
    CHECK_THROWS_AS(parse_bool("maybe"), std::invalid_argument);
    CHECK_THROWS_AS(parse_bool(""), std::invalid_argument);

    TrainConfig c;
    apply_toml(c, "[train]\nbias = False\nprofile = 1\n", "t.toml", all);
    CHECK_FALSE(c.model.bias);
    CHECK(c.profile);
}

TEST_CASE("closest_name suggests likely typos only") {
    const std::vector<std::string> names = {"n_layer", "n_head", "n_embd", "lr", "min_lr", "learning_rate"};
    CHECK(closest_name("n_layr", names) == "n_layer");
    CHECK(closest_name("n_lyaer", names) == "n_layer");  // a transposition counts once
    CHECK(closest_name("N_LAYER", names) == "n_layer");
    CHECK(closest_name("layer", names) == "n_layer");
    CHECK(closest_name("learnig_rate", names) == "learning_rate");
    CHECK(closest_name("completely_different", names) == "");
    CHECK(closest_name("xyz", names) == "");
}

TEST_CASE("config.toml round-trips every field exactly") {
    TrainConfig c;
    c.lr = 0.1 + 0.2;  // 0.30000000000000004: needs all 17 digits
    c.min_lr = 3e-5;
    c.beta2 = 0.999;
    c.model.dropout = 1.0 / 3.0;
    c.val_fraction = 0.05;
    c.model.bias = false;
    c.seed = std::numeric_limits<int64_t>::max();
    c.data = "a \"quoted\" path\\";
    const std::string toml = config_to_toml(c);
    CHECK(toml.find("beta2 = 0.999\n") != std::string::npos);
    CHECK(toml.find("min_lr = 3e-5\n") != std::string::npos);
    CHECK(toml.find("lr = 0.30000000000000004\n") != std::string::npos);
    TrainConfig back;
    apply_toml(back, toml, "config.toml", all);
    CHECK(config_to_toml(back) == toml);
    CHECK(std::bit_cast<uint64_t>(back.lr) == std::bit_cast<uint64_t>(c.lr));
    CHECK(std::bit_cast<uint64_t>(back.model.dropout) == std::bit_cast<uint64_t>(c.model.dropout));
    CHECK(back.seed == c.seed);
    CHECK(back.data == c.data);
    CHECK_FALSE(back.model.bias);

    // A file written before shortest formatting (17 significant digits) reads to the same doubles.
    TrainConfig old;
    apply_toml(old, "[train]\nweight_decay = 0.10000000000000001\nbeta2 = 0.98999999999999999\n", "old.toml", all);
    CHECK(old.weight_decay == 0.1);
    CHECK(old.beta2 == 0.99);
}

TEST_CASE("nanoGPT's names are aliases in config files") {
    TrainConfig c;
    std::vector<std::string> accepted;
    apply_toml(c, "[train]\nlearning_rate = 0.002\ngradient_accumulation_steps = 4\ndataset = \"x.txt\"\n", "n.toml",
               [&](const std::string& name) {
                   accepted.push_back(name);
                   return true;
               });
    CHECK(c.lr == 0.002);
    CHECK(c.grad_accum == 4);
    CHECK(c.data == "x.txt");
    CHECK(accepted == std::vector<std::string>{"lr", "grad_accum", "data"});  // the fields' own names
    CHECK(find_config_field("learning_rate") == find_config_field("lr"));
    CHECK(error_of([] {
              TrainConfig d;
              apply_toml(d, "[train]\nlr = 0.1\nlearning_rate = 0.2\n", "d.toml", all);
          }) == "d.toml:3: key 'learning_rate' sets lr, already set at d.toml:2");
}

TEST_CASE("config-file errors name file:line:key, with a suggestion for a typo") {
    auto error = [](const std::string& toml) {
        return error_of([&] {
            TrainConfig c;
            apply_toml(c, toml, "c.toml", all);
        });
    };
    CHECK(error("[train]\nn_layr = 2\n") == "c.toml:2: unknown key 'n_layr'; did you mean n_layer?");
    CHECK(error("[train]\nlearnig_rate = 2\n") == "c.toml:2: unknown key 'learnig_rate'; did you mean learning_rate?");
    CHECK(error("[train]\nzzzzzz = 2\n") == "c.toml:2: unknown key 'zzzzzz'");
    CHECK(error("[train]\nseed = 99999999999999999999\n").rfind("c.toml:2: seed: 99999999999999999999 is out of range", 0) == 0);
    CHECK(error("[train]\nlr = fast\n") == "c.toml:2: lr: expected a number, got 'fast'");
    CHECK(error("[train]\nbias = maybe\n") == "c.toml:2: bias: expected true or false (or 1/0, yes/no), got 'maybe'");
}
