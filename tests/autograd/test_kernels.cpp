// Every kernel path this CPU can run (autograd/kernels/kernels.h), forced through set_kernel_path():
// checked against OpenBLAS / a double-precision reference, and bit-identical across 1, 2 and 3 threads.
// (GPT_KERNELS=avx512|avx2|portable forces a path for the whole suite; this file loops over all of them.)
#include <doctest/doctest.h>

#include <omp.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "autograd/kernels/kernels.h"
#include "autograd/ops.h"
#include "autograd/ops/gemm.h"
#include "common/random.h"
#include "op_test_util.h"

using namespace gpt;

namespace {

// Restores the path in use when a test case ends.
struct PathGuard {
    KernelPath saved = kernel_path();
    ~PathGuard() { set_kernel_path(saved); }
};

std::vector<float> random_vector(size_t n, Generator& gen, float scale = 1.0f) {
    std::vector<float> v(n);
    for (float& x : v) x = scale * (2.0f * gen.uniform() - 1.0f);
    return v;
}

template <class F>
std::vector<float> with_threads(int threads, F&& f) {
    const int previous = omp_get_max_threads();
    omp_set_num_threads(threads);
    std::vector<float> out = f();
    omp_set_num_threads(previous);
    return out;
}

bool bitwise_equal(const std::vector<float>& a, const std::vector<float>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

}  // namespace

TEST_CASE("kernel paths: the CPU's best path is selected and every supported path can be forced") {
    PathGuard guard;
    const std::vector<KernelPath> paths = supported_kernel_paths();
    REQUIRE(!paths.empty());
    CHECK(paths.back() == KernelPath::portable);
    MESSAGE("kernel path in use: " << std::string(kernel_path_name()) << "; supported: " << paths.size());
    for (KernelPath p : paths) {
        set_kernel_path(p);
        CHECK(kernel_path() == p);
        CHECK(std::strcmp(kernel_path_name(), kernel_path_name(p)) == 0);
        CHECK(sgemm_is_own_kernel() == (p != KernelPath::portable && !std::getenv("GPT_GEMM")));
    }
    for (KernelPath p : {KernelPath::avx512, KernelPath::avx2})
        if (!kernel_path_supported(p)) CHECK_THROWS(set_kernel_path(p));
}

TEST_CASE("kernel paths: sgemm matches OpenBLAS and is bit-identical for 1, 2 and 3 threads") {
    PathGuard guard;
    struct Shape { int64_t M, N, K; };
    const Shape shapes[] = {{1, 1, 1}, {5, 7, 3}, {13, 33, 300}, {97, 65, 257}, {128, 256, 513}, {200, 48, 600},
                            {40, 300, 260}};
    for (KernelPath p : supported_kernel_paths()) {
        set_kernel_path(p);
        const std::string path_name = kernel_path_name(p);
        CAPTURE(path_name);
        Generator gen(7);
        for (const Shape& s : shapes)
            for (int trans = 0; trans < 4; ++trans)
                for (float beta : {0.0f, 1.0f}) {
                    const bool ta = trans & 1, tb = trans & 2;
                    CAPTURE(s.M);
                    CAPTURE(s.N);
                    CAPTURE(s.K);
                    CAPTURE(trans);
                    const int64_t lda = (ta ? s.M : s.K) + 3, ldb = (tb ? s.K : s.N) + 1, ldc = s.N + 2;
                    const std::vector<float> A = random_vector(static_cast<size_t>((ta ? s.K : s.M) * lda), gen);
                    const std::vector<float> B = random_vector(static_cast<size_t>((tb ? s.N : s.K) * ldb), gen);
                    const std::vector<float> C0 = random_vector(static_cast<size_t>(s.M * ldc), gen);
                    std::vector<float> expected = C0;
                    sgemm_openblas(ta, tb, s.M, s.N, s.K, A.data(), lda, B.data(), ldb, beta, expected.data(), ldc);
                    auto run = [&] {
                        std::vector<float> C = C0;
                        sgemm(ta, tb, s.M, s.N, s.K, A.data(), lda, B.data(), ldb, beta, C.data(), ldc);
                        return C;
                    };
                    const std::vector<float> one = with_threads(1, run);
                    float max_diff = 0.0f;
                    for (int64_t i = 0; i < s.M; ++i)
                        for (int64_t j = 0; j < s.N; ++j)
                            max_diff = std::max(max_diff, std::fabs(one[i * ldc + j] - expected[i * ldc + j]));
                    CHECK(max_diff <= 2e-6f * static_cast<float>(s.K) + 1e-6f);
                    CHECK(bitwise_equal(one, with_threads(2, run)));
                    CHECK(bitwise_equal(one, with_threads(3, run)));
                    if (beta == 0.0f) continue;
                    // sgemm_bias: the bits of filling C with the bias then sgemm with beta 1 (what linear
                    // did before the bias moved into the kernel's store), at any thread count; the
                    // padding columns of C (ldc > N) are left alone.
                    const std::vector<float> bias = random_vector(static_cast<size_t>(s.N), gen);
                    std::vector<float> filled = C0;
                    for (int64_t i = 0; i < s.M; ++i) std::copy_n(bias.data(), s.N, filled.data() + i * ldc);
                    sgemm(ta, tb, s.M, s.N, s.K, A.data(), lda, B.data(), ldb, 1.0f, filled.data(), ldc);
                    auto run_bias = [&] {
                        std::vector<float> C = C0;
                        sgemm_bias(ta, tb, s.M, s.N, s.K, A.data(), lda, B.data(), ldb, bias.data(), C.data(), ldc);
                        return C;
                    };
                    CHECK(bitwise_equal(filled, with_threads(1, run_bias)));
                    CHECK(bitwise_equal(filled, with_threads(2, run_bias)));
                }
    }
}

TEST_CASE("kernel paths: a B packed once gives sgemm's bits for every leading block of it, at 1 and 2 threads") {
    PathGuard guard;
    Generator gen(9);
    const int64_t N = 200, K = 300, M = 70;  // K > KC: two K blocks; N not a multiple of NR
    for (KernelPath p : supported_kernel_paths()) {
        set_kernel_path(p);
        const std::string path_name = kernel_path_name(p);
        CAPTURE(path_name);
        for (bool tb : {false, true}) {
            const int64_t ldb = (tb ? K : N) + 5;
            const std::vector<float> B = random_vector(static_cast<size_t>((tb ? N : K) * ldb), gen);
            PackedB packed;
            packed.pack(tb, N, K, B.data(), ldb);
            for (const auto& [n, k] : std::vector<std::pair<int64_t, int64_t>>{{200, 300}, {64, 256}, {33, 257}, {200, 17}})
                for (bool ta : {false, true})
                    for (float beta : {0.0f, 1.0f}) {
                        CAPTURE(tb);
                        CAPTURE(ta);
                        CAPTURE(n);
                        CAPTURE(k);
                        const int64_t lda = (ta ? M : k) + 2, ldc = n + 3;
                        const std::vector<float> A = random_vector(static_cast<size_t>((ta ? k : M) * lda), gen);
                        const std::vector<float> C0 = random_vector(static_cast<size_t>(M * ldc), gen);
                        std::vector<float> expected = C0;
                        sgemm(ta, tb, M, n, k, A.data(), lda, B.data(), ldb, beta, expected.data(), ldc);
                        auto run = [&] {
                            std::vector<float> C = C0;
                            packed.multiply(ta, M, n, k, A.data(), lda, beta, C.data(), ldc);
                            return C;
                        };
                        CHECK(bitwise_equal(expected, with_threads(1, run)));
                        CHECK(bitwise_equal(expected, with_threads(2, run)));
                    }
        }
    }
}

TEST_CASE("kernel paths: GELU, LayerNorm (alone and fused with the residual add, forward and backward), AdamW "
          "match the reference and are bit-identical for 1, 2 and 3 threads and the same on every path; the causal "
          "and padded softmax rows match the reference") {
    PathGuard guard;
    Generator gen(11);
    const int64_t n = 70001, N = 257, C = 192;
    const std::vector<float> x = random_vector(static_cast<size_t>(n), gen, 6.0f);
    const std::vector<float> dy = random_vector(static_cast<size_t>(n), gen);
    const std::vector<float> lx = random_vector(static_cast<size_t>(N * C), gen, 3.0f);
    const std::vector<float> w = random_vector(static_cast<size_t>(C), gen), b = random_vector(static_cast<size_t>(C), gen);
    const std::vector<float> g = random_vector(static_cast<size_t>(n), gen, 0.1f);
    const std::vector<float> v0 = random_vector(static_cast<size_t>(n), gen, 0.01f);
    // grad_scale 0.75: the clip coefficient, applied as g·0.75 rounded to float before anything else
    const kernels::AdamWScalars s{0.999f, 0.9f, 0.1f, 0.95f, 0.05f, 0.3f, 1e-8f, -0.003f, 0.75f};
    // add_layer_norm: the residual's other operand, and the gradients of the normed output and of the sum.
    const std::vector<float> lr = random_vector(static_cast<size_t>(N * C), gen, 2.0f);
    const std::vector<float> ldn = random_vector(static_cast<size_t>(N * C), gen);
    const std::vector<float> lds = random_vector(static_cast<size_t>(N * C), gen);

    // Everything each kernel writes, concatenated.
    auto run = [&] {
        const kernels::Table& k = kernels::table();
        std::vector<float> y(static_cast<size_t>(n)), dx(static_cast<size_t>(n), 0.5f);
        k.gelu_forward(x.data(), y.data(), n);
        k.gelu_backward(x.data(), dy.data(), dx.data(), n, false);  // dx += …
        std::vector<float> dx_set(static_cast<size_t>(n), NAN);
        k.gelu_backward(x.data(), dy.data(), dx_set.data(), n, true);  // dx = …, every element, no read
        std::vector<float> dx_zero(static_cast<size_t>(n), 0.0f);
        k.gelu_backward(x.data(), dy.data(), dx_zero.data(), n, false);
        bool same = true;
        for (size_t i = 0; i < dx_set.size(); ++i) same = same && dx_set[i] == dx_zero[i];
        CHECK(same);
        std::vector<float> ly(lx.size()), mean(static_cast<size_t>(N)), rstd(static_cast<size_t>(N));
        k.layer_norm_forward(lx.data(), w.data(), b.data(), ly.data(), mean.data(), rstd.data(), N, C, 1e-5f);
        std::vector<float> p = x, m(static_cast<size_t>(n), 0.01f), v = v0;
        for (float& e : v) e = std::fabs(e);
        k.adamw_update(p.data(), g.data(), m.data(), v.data(), n, s);
        // LayerNorm's backward (dx assigned, dw and db added into), then the fused add + LayerNorm: forward,
        // whose bits must be the add's then layer_norm_forward's, and backward, assigning dx and adding dy.
        const size_t NC = lx.size(), Cs = static_cast<size_t>(C);
        std::vector<float> lndx(NC, NAN), lndw(Cs, 0.5f), lndb(Cs, 0.5f);
        k.layer_norm_backward(lx.data(), w.data(), mean.data(), rstd.data(), ldn.data(), lndx.data(), false, lndw.data(),
                              lndb.data(), N, C, true);
        std::vector<float> ls(NC), lsum(NC), ly2(NC), mean2(static_cast<size_t>(N)), rstd2(static_cast<size_t>(N));
        k.add_layer_norm_forward(lx.data(), lr.data(), w.data(), b.data(), ls.data(), ly2.data(), mean2.data(),
                                 rstd2.data(), N, C, 1e-5f);
        for (size_t i = 0; i < NC; ++i) lsum[i] = lx[i] + lr[i];
        std::vector<float> ly_unfused(NC), mean_unfused(static_cast<size_t>(N)), rstd_unfused(static_cast<size_t>(N));
        k.layer_norm_forward(lsum.data(), w.data(), b.data(), ly_unfused.data(), mean_unfused.data(),
                             rstd_unfused.data(), N, C, 1e-5f);
        CHECK(bitwise_equal(ls, lsum));
        CHECK(bitwise_equal(ly2, ly_unfused));
        CHECK(bitwise_equal(rstd2, rstd_unfused));
        std::vector<float> adx(NC, NAN), ady(NC, 0.25f), adw(Cs, 0.5f), adb(Cs, 0.5f);
        k.add_layer_norm_backward(ls.data(), w.data(), mean2.data(), rstd2.data(), ldn.data(), lds.data(), adx.data(),
                                  false, ady.data(), true, adw.data(), adb.data(), N, C, true);
        // The same, unfused: LayerNorm's backward adding into the sum's gradient, then the add's copies.
        std::vector<float> ds = lds, udw(Cs, 0.5f), udb(Cs, 0.5f);
        k.layer_norm_backward(ls.data(), w.data(), mean2.data(), rstd2.data(), ldn.data(), ds.data(), true, udw.data(),
                              udb.data(), N, C, true);
        std::vector<float> udy(NC);
        for (size_t i = 0; i < NC; ++i) udy[i] = 0.25f + ds[i];
        CHECK(bitwise_equal(adx, ds));
        CHECK(bitwise_equal(ady, udy));
        CHECK(bitwise_equal(adw, udw));
        CHECK(bitwise_equal(adb, udb));
        std::vector<float> all = y;
        for (const std::vector<float>* part :
             {&dx, &ly, &mean, &rstd, &p, &m, &v, &lndx, &lndw, &lndb, &ls, &ly2, &adx, &ady, &adw, &adb})
            all.insert(all.end(), part->begin(), part->end());
        return all;
    };
    std::vector<float> first;
    for (KernelPath path : supported_kernel_paths()) {
        set_kernel_path(path);
        const std::string path_name = kernel_path_name(path);
        CAPTURE(path_name);
        const std::vector<float> one = with_threads(1, run);
        CHECK(bitwise_equal(one, with_threads(2, run)));
        CHECK(bitwise_equal(one, with_threads(3, run)));
        // The same bits on every path: the kernel files are compiled with -ffp-contract=off (only the
        // written-out fmas are fused) and these loops do not reorder sums.
        if (first.empty()) first = one;
        CHECK(bitwise_equal(one, first));

        // GELU forward and backward against double precision.
        double worst = 0.0;
        for (int64_t i = 0; i < n; i += 7) {
            const double xv = x[i], u = 0.7978845608028654 * (xv + 0.044715 * xv * xv * xv);
            const double t = std::tanh(u);
            const double gelu = 0.5 * xv * (1.0 + t);
            const double grad = 0.5 * (1.0 + t) + 0.5 * xv * (1.0 - t * t) * 0.7978845608028654 *
                                                      (1.0 + 3.0 * 0.044715 * xv * xv);
            worst = std::max(worst, std::fabs(one[i] - gelu) / (1.0 + std::fabs(gelu)));
            worst = std::max(worst, std::fabs(one[n + i] - (0.5 + dy[i] * grad)) / (1.0 + std::fabs(grad)));
        }
        CHECK(worst < 1e-5);
        // LayerNorm against double precision.
        worst = 0.0;
        for (int64_t r = 0; r < N; ++r) {
            double mu = 0.0, var = 0.0;
            for (int64_t c = 0; c < C; ++c) mu += lx[r * C + c];
            mu /= C;
            for (int64_t c = 0; c < C; ++c) var += (lx[r * C + c] - mu) * (lx[r * C + c] - mu);
            const double rs = 1.0 / std::sqrt(var / C + 1e-5);
            for (int64_t c = 0; c < C; ++c)
                worst = std::max(worst, std::fabs(one[2 * n + r * C + c] - ((lx[r * C + c] - mu) * rs * w[c] + b[c])));
        }
        CHECK(worst < 1e-5);
        // AdamW against the scalar sequence (optim/adamw.cpp), bitwise.
        const size_t p_at = static_cast<size_t>(2 * n + N * C + 2 * N);
        for (int64_t i = 0; i < n; i += 13) {
            const float vi0 = std::fabs(v0[i]);
            const float gi = g[i] * 0.75f;  // clip_grad_norm's g.mul_(coef)
            const float mi = std::fma(gi, s.one_minus_beta1, 0.01f * s.beta1);
            const float vi = std::fma(s.one_minus_beta2 * gi, gi, vi0 * s.beta2);
            const float pi = x[i] * s.decay + s.neg_step_size * mi / (std::sqrt(vi) / s.bias_correction2_sqrt + s.eps);
            REQUIRE(one[p_at + i] == pi);
            REQUIRE(one[p_at + n + i] == mi);
            REQUIRE(one[p_at + 2 * n + i] == vi);
        }

        // The causal softmax row of attention, rows of several lengths.
        for (int64_t i : {0, 1, 7, 16, 33, 200}) {
            std::vector<float> row = random_vector(static_cast<size_t>(i + 5), gen, 4.0f);
            const std::vector<float> in = row;
            kernels::table().softmax_causal_row(row.data(), i, i + 5, 0.5f);
            double mx = -1e30, total = 0.0;
            for (int64_t j = 0; j <= i; ++j) mx = std::max(mx, 0.5 * in[j]);
            for (int64_t j = 0; j <= i; ++j) total += std::exp(0.5 * in[j] - mx);
            for (int64_t j = 0; j <= i; ++j) CHECK(std::fabs(row[j] - std::exp(0.5 * in[j] - mx) / total) < 1e-6);
            for (int64_t j = i + 1; j < i + 5; ++j) CHECK(row[j] == 0.0f);
        }
        // The padded softmax row (attention's key padding): every third key padded, then every key.
        for (int64_t len : {1, 2, 9, 40, 200}) {
            std::vector<float> row = random_vector(static_cast<size_t>(len + 3), gen, 4.0f);
            const std::vector<float> in = row;
            std::vector<uint8_t> padded(static_cast<size_t>(len));
            for (int64_t j = 0; j < len; ++j) padded[j] = j % 3 == 1;
            kernels::table().softmax_padded_row(row.data(), padded.data(), len, len + 3, 0.5f);
            double mx = -1e30, total = 0.0;
            for (int64_t j = 0; j < len; ++j)
                if (!padded[j]) mx = std::max(mx, 0.5 * in[j]);
            for (int64_t j = 0; j < len; ++j)
                if (!padded[j]) total += std::exp(0.5 * in[j] - mx);
            for (int64_t j = 0; j < len; ++j)
                if (padded[j])
                    CHECK(row[j] == 0.0f);
                else
                    CHECK(std::fabs(row[j] - std::exp(0.5 * in[j] - mx) / total) < 1e-6);
            for (int64_t j = len; j < len + 3; ++j) CHECK(row[j] == 0.0f);
            std::fill(padded.begin(), padded.end(), uint8_t{1});
            row = in;
            kernels::table().softmax_padded_row(row.data(), padded.data(), len, len + 3, 0.5f);
            for (float v : row) CHECK(v == 0.0f);  // no key to see: zeros, not NaN
        }
    }
}

TEST_CASE("kernel paths: a linear + GELU + LayerNorm network's forward and backward is bit-identical for 1, 2 "
          "and 3 threads on every path") {
    PathGuard guard;
    for (KernelPath path : supported_kernel_paths()) {
        set_kernel_path(path);
        const std::string path_name = kernel_path_name(path);
        CAPTURE(path_name);
        auto run = [] {
            Generator gen(3);
            Tensor x = test::random_tensor({96, 130}, gen, -1.0f, 1.0f, false);
            Tensor w1 = test::random_tensor({130, 257}, gen);
            Tensor w2 = test::random_tensor({257, 64}, gen);
            Tensor lw = test::random_tensor({64}, gen);
            Tensor lb = test::random_tensor({64}, gen);
            Tensor h = layer_norm(matmul(gelu(matmul(x, w1)), w2), lw, lb, 1e-5f);
            Tensor loss = mean_all(h * h);
            loss.backward();
            std::vector<float> all = {loss.item()};
            for (const Tensor& t : {w1, w2, lw, lb}) {
                const std::vector<float> gr = t.grad_tensor().to_vector();
                all.insert(all.end(), gr.begin(), gr.end());
            }
            return all;
        };
        const std::vector<float> one = with_threads(1, run);
        CHECK(bitwise_equal(one, with_threads(2, run)));
        CHECK(bitwise_equal(one, with_threads(3, run)));
    }
}
