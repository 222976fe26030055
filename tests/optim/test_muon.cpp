// Muon (optim/muon.h): the parameter grouping, the Newton–Schulz iteration's effect (singular values
// pushed towards 1), state save/restore, validation, and three steps against the published algorithm
// written in PyTorch (tests/optim/reference_muon.py) on the same parameters and gradients, in float32 and
// float64.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <tuple>
#include <unistd.h>

#include "optim/muon.h"
#include "tests/reference_python.h"
#include "tests/reference_text.h"

using namespace gpt;

namespace {

std::vector<float> random_values(std::mt19937& rng, size_t n, float scale) {
    std::normal_distribution<float> normal(0.0f, scale);
    std::vector<float> v(n);
    for (float& x : v) x = normal(rng);
    return v;
}

void set_grad(const Tensor& t, const std::vector<float>& g) {
    float* buffer = t.grad_buffer();
    for (size_t i = 0; i < g.size(); ++i) buffer[i] = g[i];
}

// M·Mᵀ of a row-major [rows, cols] matrix, in double.
std::vector<double> gram(const std::vector<float>& m, int64_t rows, int64_t cols) {
    std::vector<double> g(static_cast<size_t>(rows * rows), 0.0);
    for (int64_t i = 0; i < rows; ++i)
        for (int64_t j = 0; j < rows; ++j)
            for (int64_t k = 0; k < cols; ++k)
                g[static_cast<size_t>(i * rows + j)] += double(m[static_cast<size_t>(i * cols + k)]) * m[static_cast<size_t>(j * cols + k)];
    return g;
}

}  // namespace

TEST_CASE("Muon takes the 2-D weights inside the blocks, AdamW the rest") {
    CHECK(muon_takes("h.0.attn.c_attn.weight", {384, 128}));
    CHECK(muon_takes("h.3.mlp.c_proj.weight", {128, 512}));
    CHECK_FALSE(muon_takes("h.0.attn.c_attn.bias", {384}));
    CHECK_FALSE(muon_takes("h.0.ln_1.weight", {128}));
    CHECK_FALSE(muon_takes("wte.weight", {65, 128}));
    CHECK_FALSE(muon_takes("wpe.weight", {64, 128}));
    CHECK_FALSE(muon_takes("lm_head.weight", {65, 128}));
    // The encoder–decoder (nn/encoder_decoder.h): both stacks' matrices, cross attention's too.
    CHECK(muon_takes("encoder.h.0.attn.c_attn.weight", {96, 32}));
    CHECK(muon_takes("decoder.h.1.cross_attn.c_kv.weight", {64, 32}));
    CHECK_FALSE(muon_takes("decoder.h.1.cross_attn.c_kv.bias", {64}));
    CHECK_FALSE(muon_takes("encoder.ln_f.weight", {32}));
    CHECK_FALSE(muon_takes("wte_source.weight", {30, 32}));
}

TEST_CASE("Newton-Schulz pushes every singular value towards 1, wide and tall") {
    std::mt19937 rng(7);
    for (const auto& [rows, cols] : std::vector<std::pair<int64_t, int64_t>>{{8, 20}, {20, 8}}) {
        INFO(rows << "x" << cols);
        // A badly conditioned input: rows scaled from 1 down to 1e-3.
        std::vector<float> u = random_values(rng, static_cast<size_t>(rows * cols), 1.0f);
        for (int64_t i = 0; i < rows; ++i)
            for (int64_t j = 0; j < cols; ++j) u[static_cast<size_t>(i * cols + j)] *= std::pow(1e-3f, float(i) / float(rows));
        const std::vector<float> o = newton_schulz(u, rows, cols, MuonOptions{});
        // The smaller Gram matrix of O is near the identity: the quintic's coefficients trade exactness
        // for speed and leave singular values in about [0.7, 1.2] (Jordan 2024), so its diagonal entries
        // (squared row or column norms) sit in [0.3, 1.6] and the off-diagonal ones stay small.
        const bool tall = rows > cols;
        std::vector<float> ot(o.size());
        for (int64_t i = 0; i < rows; ++i)
            for (int64_t j = 0; j < cols; ++j) ot[static_cast<size_t>(j * rows + i)] = o[static_cast<size_t>(i * cols + j)];
        const int64_t m = std::min(rows, cols);
        const std::vector<double> g = tall ? gram(ot, cols, rows) : gram(o, rows, cols);
        for (int64_t i = 0; i < m; ++i) {
            CHECK(g[static_cast<size_t>(i * m + i)] > 0.3);
            CHECK(g[static_cast<size_t>(i * m + i)] < 1.6);
            for (int64_t j = 0; j < m; ++j)
                if (j != i) CHECK(std::abs(g[static_cast<size_t>(i * m + j)]) < 0.35);
        }
    }
}

TEST_CASE("Muon's state saves, restores, and is validated") {
    Tensor w = Tensor::full({3, 4}, 0.5f, true);
    Muon muon({{"h.0.w", w}});
    set_grad(w, std::vector<float>(12, 0.25f));
    muon.step();
    const MuonState saved = muon.state();
    CHECK(saved.step == 1);
    CHECK(saved.momentum.at("h.0.w")[0] == 0.25f);
    Tensor w2 = Tensor::full({3, 4}, 0.5f, true);
    Muon other({{"h.0.w", w2}});
    other.load_state(saved);
    CHECK(other.step_count() == 1);
    CHECK(other.momentum("h.0.w") == saved.momentum.at("h.0.w"));
    MuonState wrong = saved;
    wrong.momentum["h.0.w"].pop_back();
    CHECK_THROWS_WITH(other.load_state(wrong), doctest::Contains("the momentum of h.0.w has 11 elements, expected 12"));
    CHECK(other.momentum("h.0.w").size() == 12);  // unchanged
    MuonOptions bad;
    bad.momentum = 1.0f;
    CHECK_THROWS_WITH(Muon({{"h.0.w", w}}, bad), doctest::Contains("muon_momentum must be in [0, 1), got 1"));
    CHECK_THROWS_WITH(Muon({{"h.0.b", Tensor::zeros({3}, true)}}), doctest::Contains("h.0.b is not a 2-D matrix"));
    // A parameter without a gradient is skipped.
    Tensor untouched = Tensor::full({2, 2}, 1.0f, true);
    Muon skip({{"h.0.u", untouched}});
    skip.step();
    CHECK(untouched.data()[0] == 1.0f);
}

TEST_CASE("three Muon steps match the published algorithm in PyTorch (float32 and float64)") {
    for (const bool nesterov : {true, false}) {
        INFO("nesterov " << nesterov);
        MuonOptions o;
        o.lr = 0.05f;
        o.momentum = 0.9f;
        o.nesterov = nesterov;
        o.weight_decay = 0.1f;
        const int steps = 3;
        std::mt19937 rng(2024);
        const std::string dir = std::filesystem::temp_directory_path() / ("gpt_test_muon_" + std::to_string(::getpid()));
        std::filesystem::create_directories(dir);
        const std::string input = dir + "/in.txt", output = dir + "/out.txt";
        std::ofstream in(input);
        test::write_tensor(in, "hyper", {9},
                           {o.lr, o.momentum, o.nesterov ? 1.0f : 0.0f, static_cast<float>(o.ns_steps), o.ns_a, o.ns_b,
                            o.ns_c, o.weight_decay, static_cast<float>(steps)});
        NamedTensors params;
        for (const auto& [name, rows, cols] : {std::tuple{"h.0.wide", 6, 10}, {"h.0.tall", 12, 5}, {"h.1.square", 8, 8}}) {
            const std::vector<float> initial = random_values(rng, static_cast<size_t>(rows * cols), 0.1f);
            params.emplace_back(name, Tensor::from_vector({rows, cols}, initial, true));
            test::write_tensor(in, std::string("param.") + name, {rows, cols}, initial);
        }
        Muon muon(params, o);
        for (int step = 0; step < steps; ++step) {
            for (const auto& [name, t] : params) {
                const std::vector<float> g = random_values(rng, static_cast<size_t>(t.numel()), 1.0f);
                set_grad(t, g);
                test::write_tensor(in, "grad." + std::to_string(step) + "." + name, t.shape(), g);
            }
            muon.step();
        }
        in.close();
        if (!test::run_reference(GPT_SOURCE_DIR "/tests/optim/reference_muon.py " + input + " " + output)) return;
        const auto reference = test::read_tensors(output);
        for (const std::string tag : {"f32", "f64"}) {
            double worst = 0.0;  // test::compare: relative, small elements against a hundredth of the largest
            for (const auto& [name, t] : params)
                worst = std::max(worst, test::compare(std::vector<float>(t.data(), t.data() + t.numel()),
                                                      reference.at(tag + "." + name)));
            MESSAGE("Muon vs PyTorch " << tag << " after " << steps << " steps (nesterov " << nesterov
                                       << "): worst relative difference " << worst);
            // Measured: 1.9e-5 (float32 reference), 2.3e-5 (float64); a different algorithm (no √(rows/cols)
            // scale, no Nesterov term, another coefficient) is off by more than 1e-2.
            CHECK(worst < 1e-4);
        }
        std::filesystem::remove_all(dir);
    }
}
