// bf16 weights for generation (autograd/bf16.h, linear_bf16): the rounding against hand-worked cases and
// PyTorch's .to(torch.bfloat16), and the product on every kernel path this CPU can run against a
// double-precision sum over the same widened weights, bit-identical for 1, 2 and 3 threads and for any
// number of rows.
#include <doctest/doctest.h>

#include <omp.h>
#include <unistd.h>

#include <bit>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "autograd/bf16.h"
#include "autograd/kernels/kernels.h"
#include "autograd/ops.h"
#include "common/random.h"
#include "tests/reference_python.h"

using namespace gpt;

namespace {

struct PathGuard {  // restores the path in use when a test case ends
    KernelPath saved = kernel_path();
    ~PathGuard() { set_kernel_path(saved); }
};

uint32_t bits_of(float v) { return std::bit_cast<uint32_t>(v); }
float float_of(uint32_t b) { return std::bit_cast<float>(b); }

std::vector<float> random_vector(size_t n, Generator& gen, float scale = 1.0f) {
    std::vector<float> v(n);
    for (float& x : v) x = scale * (2.0f * gen.uniform() - 1.0f);
    return v;
}

std::vector<uint16_t> rounded(const std::vector<float>& v) {
    std::vector<uint16_t> out(v.size());
    for (size_t i = 0; i < v.size(); ++i) out[i] = bf16_round(v[i]);
    return out;
}

// y = x · widen(W)ᵀ (+ bias) through the path's kernel, with `threads` threads.
std::vector<float> kernel_product(int threads, const std::vector<float>& x, int64_t M, int64_t K,
                                  const std::vector<uint16_t>& w, int64_t N, const float* bias) {
    const int previous = omp_get_max_threads();
    omp_set_num_threads(threads);
    std::vector<float> y(static_cast<size_t>(M * N), -7.0f);
    kernels::table().linear_bf16(x.data(), M, K, w.data(), N, bias, y.data());
    omp_set_num_threads(previous);
    return y;
}

bool bitwise_equal(const std::vector<float>& a, const std::vector<float>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

}  // namespace

TEST_CASE("bf16_round: nearest, ties to even, overflow to infinity, NaN stays NaN; widening is exact") {
    // 1 + 2⁻⁸ lies exactly between bf16 neighbours 1 and 1 + 2⁻⁷: the tie goes to the even one (1).
    CHECK(bf16_round(float_of(0x3F808000u)) == 0x3F80);
    // 1 + 3·2⁻⁸ lies between 1 + 2⁻⁷ (odd) and 1 + 2⁻⁶ (even): the tie goes up to the even one.
    CHECK(bf16_round(float_of(0x3F818000u)) == 0x3F82);
    CHECK(bf16_round(float_of(0x3F808001u)) == 0x3F81);  // just above half: up
    CHECK(bf16_round(float_of(0x3F807FFFu)) == 0x3F80);  // just below half: down
    CHECK(bf16_round(float_of(0xBF808001u)) == 0xBF81);  // negative values round by magnitude
    CHECK(bf16_round(1.0f) == 0x3F80);
    CHECK(bf16_round(-2.0f) == 0xC000);
    CHECK(bf16_round(0.0f) == 0x0000);
    CHECK(bf16_round(-0.0f) == 0x8000);
    CHECK(bf16_round(std::numeric_limits<float>::max()) == 0x7F80);  // past the largest bf16: +inf
    CHECK(bf16_round(float_of(0x7F7F7FFFu)) == 0x7F7F);  // the largest bf16 itself, below half
    CHECK(bf16_round(std::numeric_limits<float>::infinity()) == 0x7F80);
    CHECK(bf16_round(-std::numeric_limits<float>::infinity()) == 0xFF80);
    CHECK(bf16_round(float_of(0x00000001u)) == 0x0000);  // the smallest subnormal rounds to zero
    CHECK(bf16_round(float_of(0x00018000u)) == 0x0002);  // subnormals round like any other value (tie: even)
    // A NaN whose payload sits in the low bits only: adding 0x7FFF would carry it into infinity.
    const uint16_t nan = bf16_round(float_of(0x7F800001u));
    CHECK(std::isnan(bf16_to_float(nan)));
    CHECK(std::isnan(bf16_to_float(bf16_round(float_of(0xFFFFFFFFu)))));
    // Widening is exact, and rounding a widened value gives it back.
    for (uint32_t b : {0x3F80u, 0x0001u, 0x7F7Fu, 0xC2F7u, 0x8000u}) {
        CHECK(bits_of(bf16_to_float(static_cast<uint16_t>(b))) == b << 16);
        CHECK(bf16_round(bf16_to_float(static_cast<uint16_t>(b))) == b);
    }
    // Relative error at most 2⁻⁸ (8 significant bits) over many values.
    Generator gen(5);
    double worst = 0.0;
    for (int i = 0; i < 100000; ++i) {
        const float v = std::ldexp(gen.uniform() + 0.5f, static_cast<int>(gen.below(60)) - 30);
        worst = std::max(worst, std::fabs(double(bf16_to_float(bf16_round(v))) - v) / v);
    }
    MESSAGE("worst relative rounding error " << worst << " (bound 2^-8 = " << std::ldexp(1.0, -8) << ")");
    CHECK(worst <= std::ldexp(1.0, -8));
    CHECK(worst > std::ldexp(1.0, -9));  // the bound is nearly reached: not a looser rounding
}

TEST_CASE("bf16_round equals PyTorch's .to(torch.bfloat16) bit for bit (NaN: both NaN)") {
    Generator gen(11);
    std::vector<uint32_t> inputs = {0x3F808000u, 0x3F818000u, 0x7F7FFFFFu, 0xFF7FFFFFu, 0x7F7F7FFFu, 0x7F7F8000u,
                                    0x00000001u, 0x00018000u, 0x80008000u, 0x7F800000u, 0x7F800001u, 0x7FC00000u};
    for (int i = 0; i < 200000; ++i) inputs.push_back(static_cast<uint32_t>(gen.next_u64()));
    for (int i = 0; i < 20000; ++i)  // exact ties: the low half 0x8000, odd and even kept parts
        inputs.push_back((static_cast<uint32_t>(gen.next_u64()) & 0xFFFF0000u) | 0x8000u);
    const std::string in_path = "/tmp/gpt_bf16_in_" + std::to_string(getpid());
    const std::string out_path = "/tmp/gpt_bf16_out_" + std::to_string(getpid());
    {
        std::ofstream in(in_path);
        char line[16];
        for (uint32_t b : inputs) {
            std::snprintf(line, sizeof line, "%08x\n", b);
            in << line;
        }
    }
    const std::string command =
        std::string(GPT_PYTHON) + " " + GPT_SOURCE_DIR + "/tests/autograd/reference_bf16.py " + in_path + " " + out_path;
    const int status = std::system(command.c_str());
    const int rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    std::remove(in_path.c_str());
    if (rc == 3 || rc == 127) {
        gpt::test::reference_unavailable(std::string(GPT_PYTHON) + " cannot import torch (reference_bf16.py exit " +
                                         std::to_string(rc) + ")");
        return;
    }
    REQUIRE_MESSAGE(rc == 0, "reference_bf16.py failed with exit status " << rc);
    std::ifstream out(out_path);
    size_t compared = 0, differing = 0;
    std::string line;
    for (uint32_t b : inputs) {
        REQUIRE(std::getline(out, line));
        const uint16_t theirs = static_cast<uint16_t>(std::stoul(line, nullptr, 16));
        const uint16_t ours = bf16_round(float_of(b));
        const bool nan = std::isnan(float_of(b));
        const bool same = nan ? std::isnan(bf16_to_float(theirs)) && std::isnan(bf16_to_float(ours)) : theirs == ours;
        if (!same && differing++ < 5) MESSAGE("input " << std::hex << b << ": ours " << ours << ", torch " << theirs);
        ++compared;
    }
    std::remove(out_path.c_str());
    MESSAGE(compared << " values compared with torch");
    CHECK(compared == inputs.size());
    CHECK(differing == 0);
}

TEST_CASE("linear_bf16 kernel on every path: double reference, same bits for 1, 2, 3 threads and any row count") {
    PathGuard guard;
    struct Shape { int64_t M, N, K; };
    // K against the paths' steps (4 vectors of 4, 8 or 16 lanes: 16, 32, 64 floats): below one vector,
    // whole steps, 1–3 leftover vectors, a scalar tail; N odd; shapes large enough for the parallel loop
    // (N·K ≥ 2¹⁵) too.
    const Shape shapes[] = {{1, 1, 1}, {1, 5, 3}, {2, 7, 17}, {1, 64, 768}, {3, 66, 769}, {1, 1027, 64},
                            {8, 130, 300}, {1, 2051, 40}, {2, 33, 112}, {1, 301, 127}, {4, 9, 3072}};
    for (KernelPath p : supported_kernel_paths()) {
        set_kernel_path(p);
        const std::string path_name = kernel_path_name(p);
        CAPTURE(path_name);
        Generator gen(3);
        for (const Shape& s : shapes) {
            CAPTURE(s.M);
            CAPTURE(s.N);
            CAPTURE(s.K);
            const std::vector<float> x = random_vector(static_cast<size_t>(s.M * s.K), gen);
            const std::vector<uint16_t> w = rounded(random_vector(static_cast<size_t>(s.N * s.K), gen, 0.5f));
            const std::vector<float> bias = random_vector(static_cast<size_t>(s.N), gen);
            for (const float* b : {static_cast<const float*>(nullptr), bias.data()}) {
                const std::vector<float> y = kernel_product(1, x, s.M, s.K, w, s.N, b);
                // Against Σ_k x·widen(w) in double: only float32 accumulation error remains, bounded by
                // ~K·2⁻²⁴·Σ|x·w|; measured as |y − ref| / (Σ|x·w| + |bias|).
                double worst = 0.0;
                for (int64_t m = 0; m < s.M; ++m)
                    for (int64_t n = 0; n < s.N; ++n) {
                        double ref = b ? b[n] : 0.0, scale = b ? std::fabs(b[n]) : 0.0;
                        for (int64_t k = 0; k < s.K; ++k) {
                            const double term = double(x[m * s.K + k]) * bf16_to_float(w[n * s.K + k]);
                            ref += term;
                            scale += std::fabs(term);
                        }
                        worst = std::max(worst, std::fabs(y[m * s.N + n] - ref) / std::max(scale, 1e-30));
                    }
                CHECK(worst <= 1e-6);
                CHECK(bitwise_equal(y, kernel_product(2, x, s.M, s.K, w, s.N, b)));
                CHECK(bitwise_equal(y, kernel_product(3, x, s.M, s.K, w, s.N, b)));
                // Each row alone gives that row's bits: decoding one token at a time equals a pass over several.
                for (int64_t m = 0; m < s.M; ++m) {
                    const std::vector<float> row(x.begin() + m * s.K, x.begin() + (m + 1) * s.K);
                    const std::vector<float> one = kernel_product(2, row, 1, s.K, w, s.N, b);
                    CHECK(std::memcmp(one.data(), y.data() + m * s.N, static_cast<size_t>(s.N) * sizeof(float)) == 0);
                }
            }
        }
    }
}

TEST_CASE("linear_bf16: few rows (kernel) and many rows (widened sgemm) both equal linear over the widened weight") {
    PathGuard guard;
    Generator gen(21);
    const int64_t in = 96, out = 70;
    const Tensor weight = Tensor::from_vector({out, in}, random_vector(static_cast<size_t>(out * in), gen, 0.3f));
    const Tensor bias = Tensor::from_vector({out}, random_vector(static_cast<size_t>(out), gen));
    const Bf16Matrix w16 = Bf16Matrix::round(weight);
    REQUIRE(w16.rows == out);
    REQUIRE(w16.cols == in);
    std::vector<float> widened(static_cast<size_t>(out * in));
    for (size_t i = 0; i < widened.size(); ++i) widened[i] = bf16_to_float(w16.bits[i]);
    const Tensor widened_weight = Tensor::from_vector({out, in}, widened);
    NoGradGuard no_grad;
    for (KernelPath p : supported_kernel_paths()) {
        set_kernel_path(p);
        const std::string path_name = kernel_path_name(p);
        CAPTURE(path_name);
        for (const int64_t rows : {1, 3, 8, 9, 40}) {  // ≤ 8: the kernel; more: chunks widened for sgemm
            CAPTURE(rows);
            const Tensor x = Tensor::from_vector({rows, 1, in}, random_vector(static_cast<size_t>(rows * in), gen));
            for (const Tensor& b : {Tensor(), bias}) {
                const Tensor y = linear_bf16(x, w16, b);
                CHECK(y.shape() == Shape{rows, 1, out});
                const std::vector<float> ours = y.to_vector(), reference = linear(x, widened_weight, b).to_vector();
                double worst = 0.0;
                for (size_t i = 0; i < ours.size(); ++i)
                    worst = std::max(worst, std::fabs(double(ours[i]) - reference[i]) / (1.0 + std::fabs(reference[i])));
                CHECK(worst <= 1e-5);
            }
        }
    }
}

TEST_CASE("linear_bf16: shape errors and no gradient through bf16 weights") {
    const Bf16Matrix w = Bf16Matrix::round(Tensor::full({4, 3}, 0.5f));
    CHECK_THROWS_WITH(linear_bf16(Tensor::zeros({2, 5}), w, Tensor()),
                      doctest::Contains("linear_bf16: x's last axis differs from weight's in: x [2, 5], weight [4, 3]"));
    CHECK_THROWS_WITH(linear_bf16(Tensor::zeros({2, 3}), w, Tensor::zeros({3})),
                      doctest::Contains("linear_bf16: bias must be [out]"));
    CHECK_THROWS_WITH(linear_bf16(Tensor::zeros({2, 3}), Bf16Matrix{}, Tensor()),
                      doctest::Contains("linear_bf16: undefined input or empty bf16 weight"));
    CHECK_THROWS_WITH(linear_bf16(Tensor::zeros({2, 3}, true), w, Tensor()), doctest::Contains("inference only"));
    CHECK_THROWS_WITH(Bf16Matrix::round(Tensor::zeros({3})), doctest::Contains("Bf16Matrix: needs a 2-D weight"));
    NoGradGuard no_grad;  // the same input is fine when nothing is recorded
    const Tensor y = linear_bf16(Tensor::full({2, 3}, 1.0f, true), w, Tensor());
    CHECK(y.to_vector() == std::vector<float>(8, 1.5f));
}
