// The attention op's bidirectional and cross modes and its key padding (autograd/ops/attention.cpp):
// forward against a double-precision loop, finite differences for every mode and form of padding,
// padded keys that change nothing, rows with no key (zeros, no NaN), determinism over threads and
// kernel paths, errors. PyTorch's check of the same modes: tests/autograd/test_fused_reference.cpp.
#include <doctest/doctest.h>

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <stdexcept>
#include <vector>

#include "autograd/gradcheck.h"
#include "autograd/kernels/kernels.h"
#include "autograd/ops.h"
#include "common/random.h"

using namespace gpt;

namespace {

Tensor normal_tensor(const Shape& shape, uint64_t seed, bool grad = true) {
    Generator generator(seed);
    Tensor t = Tensor::empty(shape, grad);
    for (int64_t i = 0; i < t.numel(); ++i) t.data()[i] = static_cast<float>(generator.normal());
    return t;
}

// One call's operands in the form the double loop reads: q [B, Tq, H, hd] and k, v [B, Tk, H_kv, hd]
// at given strides, and whether key j is visible to query i of row b.
struct Operands {
    int64_t B, Tq, Tk, H, H_kv, hd;
    std::function<double(int64_t b, int64_t t, int64_t h, int64_t d)> q, k, v;
    std::function<bool(int64_t b, int64_t i, int64_t j)> visible;
};

Operands of_qkv(const Tensor& qkv, int64_t H, int64_t H_kv, std::function<bool(int64_t, int64_t, int64_t)> visible) {
    const int64_t B = qkv.size(0), T = qkv.size(1), row = qkv.size(2), hd = row / (H + 2 * H_kv);
    const float* x = qkv.data();
    return {B, T, T, H, H_kv, hd,
            [=](int64_t b, int64_t t, int64_t h, int64_t d) { return double(x[(b * T + t) * row + h * hd + d]); },
            [=](int64_t b, int64_t t, int64_t g, int64_t d) { return double(x[(b * T + t) * row + (H + g) * hd + d]); },
            [=](int64_t b, int64_t t, int64_t g, int64_t d) {
                return double(x[(b * T + t) * row + (H + H_kv + g) * hd + d]);
            },
            std::move(visible)};
}

Operands of_cross(const Tensor& q, const Tensor& kv, int64_t H, int64_t H_kv,
                  std::function<bool(int64_t, int64_t, int64_t)> visible) {
    const int64_t B = q.size(0), Tq = q.size(1), Tk = kv.size(1), hd = q.size(2) / H, row = kv.size(2);
    const float* qd = q.data();
    const float* kd = kv.data();
    return {B, Tq, Tk, H, H_kv, hd,
            [=](int64_t b, int64_t t, int64_t h, int64_t d) { return double(qd[(b * Tq + t) * H * hd + h * hd + d]); },
            [=](int64_t b, int64_t t, int64_t g, int64_t d) { return double(kd[(b * Tk + t) * row + g * hd + d]); },
            [=](int64_t b, int64_t t, int64_t g, int64_t d) {
                return double(kd[(b * Tk + t) * row + (H_kv + g) * hd + d]);
            },
            std::move(visible)};
}

// softmax over the visible keys, in double; a row that sees no key is 0. → [B, Tq, H·hd]
std::vector<double> naive(const Operands& o) {
    std::vector<double> out(static_cast<size_t>(o.B * o.Tq * o.H * o.hd), 0.0);
    for (int64_t b = 0; b < o.B; ++b)
        for (int64_t h = 0; h < o.H; ++h) {
            const int64_t g = h / (o.H / o.H_kv);
            for (int64_t i = 0; i < o.Tq; ++i) {
                std::vector<double> s(static_cast<size_t>(o.Tk), -INFINITY);
                double max = -INFINITY;
                for (int64_t j = 0; j < o.Tk; ++j) {
                    if (!o.visible(b, i, j)) continue;
                    double dot = 0.0;
                    for (int64_t d = 0; d < o.hd; ++d) dot += o.q(b, i, h, d) * o.k(b, j, g, d);
                    s[j] = dot / std::sqrt(double(o.hd));
                    max = std::max(max, s[j]);
                }
                if (max == -INFINITY) continue;
                double sum = 0.0;
                for (double& v : s) sum += (v = std::exp(v - max));
                for (int64_t j = 0; j < o.Tk; ++j)
                    for (int64_t d = 0; d < o.hd; ++d)
                        out[((b * o.Tq + i) * o.H + h) * o.hd + d] += s[j] / sum * o.v(b, j, g, d);
            }
        }
    return out;
}

double worst_error(const std::vector<double>& ref, const Tensor& y) {
    REQUIRE(static_cast<int64_t>(ref.size()) == y.numel());
    double worst = 0.0;
    for (size_t i = 0; i < ref.size(); ++i) {
        REQUIRE(std::isfinite(y.data()[i]));
        worst = std::max(worst, std::fabs(ref[i] - y.data()[i]));
    }
    return worst;
}

// As tests/autograd/test_fused_attention.cpp: float32 sums over many keys carry ~1e-5 absolute
// rounding into a central difference at eps 1e-2, so gradients under 1e-2 are judged absolutely.
GradcheckOptions attention_options() {
    GradcheckOptions o;
    o.epsilon = 1e-2;
    o.abs_floor = 1e-2;
    return o;
}

void expect_gradcheck(const std::string& name, const std::function<Tensor(const std::vector<Tensor>&)>& f,
                      std::vector<Tensor> inputs) {
    const GradcheckResult result = gradcheck(f, std::move(inputs), attention_options());
    MESSAGE(name << ": worst relative error " << result.max_rel_error << " (" << result.worst << ")");
    CHECK_MESSAGE(result.ok, name);
}

// B = 3 rows with keys valid: all, the first 3, none (a row of zeros by definition).
KeyPadding three_lengths(int64_t Tk) { return KeyPadding{{Tk, 3, 0}, {}}; }

// A mask with holes: row 0 pads every third key, row 1 its first two keys (left padding), row 2 the last.
KeyPadding holes_mask(int64_t B, int64_t Tk) {
    KeyPadding p;
    p.mask.assign(static_cast<size_t>(B * Tk), 0);
    for (int64_t j = 0; j < Tk; ++j) {
        p.mask[static_cast<size_t>(j)] = j % 3 == 1;
        if (B > 1) p.mask[static_cast<size_t>(Tk + j)] = j < 2;
        if (B > 2) p.mask[static_cast<size_t>(2 * Tk + j)] = j == Tk - 1;
    }
    return p;
}

bool unpadded(const KeyPadding& p, int64_t Tk, int64_t b, int64_t j) {
    if (!p.lengths.empty()) return j < p.lengths[static_cast<size_t>(b)];
    if (!p.mask.empty()) return p.mask[static_cast<size_t>(b * Tk + j)] == 0;
    return true;
}

}  // namespace

TEST_CASE("bidirectional attention forward on a hand-computed two-token case") {
    // H = H_kv = 1, hd = 1. Tokens (q, k, v): (1, 2, 3) and (1, 0, 5). Both queries see both keys:
    // scores [2, 0] → P = [0.8807971, 0.1192029] → out = 3.2384058 for both (causal: 3 for the first).
    Tensor qkv = Tensor::from_vector({1, 2, 3}, {1, 2, 3, 1, 0, 5});
    Generator generator(1);
    const std::vector<float> y =
        self_attention(qkv, 1, 1, AttentionMode::bidirectional, 0.0f, false, generator).to_vector();
    REQUIRE(y.size() == 2);
    CHECK(y[0] == doctest::Approx(3.2384058).epsilon(1e-6));
    CHECK(y[1] == doctest::Approx(3.2384058).epsilon(1e-6));
    // Key 0 padded: both see only key 1, out = 5.
    const std::vector<float> padded = self_attention(qkv, 1, 1, AttentionMode::bidirectional, 0.0f, false, generator,
                                                     KeyPadding{{}, {1, 0}})
                                          .to_vector();
    CHECK(padded[0] == doctest::Approx(5.0));
    CHECK(padded[1] == doctest::Approx(5.0));
}

TEST_CASE("every mode's forward matches a double loop, MHA and GQA, across row blocks, with and without padding") {
    Generator generator(1);
    double worst_bidirectional = 0.0, worst_causal = 0.0, worst_cross = 0.0;
    const int64_t H = 4, hd = 5;
    for (int64_t H_kv : {4, 2, 1})
        for (int64_t T : {7, 70}) {  // 70: two row blocks of queries
            CAPTURE(H_kv);
            CAPTURE(T);
            const Tensor qkv = normal_tensor({3, T, (H + 2 * H_kv) * hd}, 10 + H_kv + T, false);
            for (const KeyPadding& padding : {KeyPadding{}, three_lengths(T), holes_mask(3, T)}) {
                auto keep = [&padding, T](int64_t b, int64_t j) { return unpadded(padding, T, b, j); };
                const Tensor bi = self_attention(qkv, H, H_kv, AttentionMode::bidirectional, 0.0f, false, generator, padding);
                worst_bidirectional = std::max(
                    worst_bidirectional,
                    worst_error(naive(of_qkv(qkv, H, H_kv, [&](int64_t b, int64_t, int64_t j) { return keep(b, j); })), bi));
                const Tensor ca = self_attention(qkv, H, H_kv, AttentionMode::causal, 0.0f, false, generator, padding);
                worst_causal = std::max(worst_causal, worst_error(naive(of_qkv(qkv, H, H_kv,
                                                                               [&](int64_t b, int64_t i, int64_t j) {
                                                                                   return j <= i && keep(b, j);
                                                                               })),
                                                                  ca));
            }
            for (int64_t Tq : {5, 67}) {
                const Tensor q = normal_tensor({3, Tq, H * hd}, 20 + H_kv + Tq, false);
                const Tensor kv = normal_tensor({3, T, 2 * H_kv * hd}, 30 + H_kv + T, false);
                for (const KeyPadding& padding : {KeyPadding{}, three_lengths(T), holes_mask(3, T)}) {
                    const Tensor y = cross_attention(q, kv, H, H_kv, 0.0f, false, generator, padding);
                    CHECK(y.shape() == Shape{3, Tq, H * hd});
                    worst_cross = std::max(worst_cross, worst_error(naive(of_cross(q, kv, H, H_kv,
                                                                                   [&](int64_t b, int64_t, int64_t j) {
                                                                                       return unpadded(padding, T, b, j);
                                                                                   })),
                                                                    y));
                }
            }
        }
    MESSAGE("worst absolute forward error against the double loop (H_kv 4, 2, 1; T 7, 70; Tq 5, 67; no padding, "
            "lengths, mask): bidirectional "
            << worst_bidirectional << ", causal " << worst_causal << ", cross " << worst_cross);
    CHECK(worst_bidirectional < 1e-5);
    CHECK(worst_causal < 1e-5);
    CHECK(worst_cross < 1e-5);
}

TEST_CASE("finite differences: bidirectional, cross and causal attention, with lengths and with a mask") {
    const int64_t H = 4, hd = 3, T = 5;
    for (int64_t H_kv : {4, 2}) {
        const std::string kv_heads = " H_kv " + std::to_string(H_kv);
        for (const KeyPadding& padding : {KeyPadding{}, three_lengths(T), holes_mask(3, T)}) {
            const std::string form = padding.empty() ? "" : !padding.lengths.empty() ? ", lengths" : ", mask";
            for (AttentionMode mode : {AttentionMode::bidirectional, AttentionMode::causal}) {
                const char* name = mode == AttentionMode::causal ? "causal" : "bidirectional";
                expect_gradcheck(std::string(name) + kv_heads + form,
                                 [&](const std::vector<Tensor>& in) {
                                     Generator generator(5);
                                     return self_attention(in[0], H, H_kv, mode, 0.0f, true, generator, padding);
                                 },
                                 {normal_tensor({3, T, (H + 2 * H_kv) * hd}, 40 + H_kv)});
            }
            expect_gradcheck("cross Tq 4 Tk 5" + kv_heads + form,
                             [&](const std::vector<Tensor>& in) {
                                 Generator generator(5);
                                 return cross_attention(in[0], in[1], H, H_kv, 0.0f, true, generator, padding);
                             },
                             {normal_tensor({3, 4, H * hd}, 50 + H_kv), normal_tensor({3, T, 2 * H_kv * hd}, 60 + H_kv)});
        }
    }
}

TEST_CASE("finite differences with dropout: bidirectional and cross regenerate the forward's masks") {
    const int64_t H = 2, hd = 3;
    expect_gradcheck("bidirectional + dropout 0.3, mask",
                     [](const std::vector<Tensor>& in) {
                         Generator generator(99);
                         return self_attention(in[0], H, 1, AttentionMode::bidirectional, 0.3f, true, generator,
                                               holes_mask(2, 6));
                     },
                     {normal_tensor({2, 6, 4 * hd}, 70)});
    expect_gradcheck("cross + dropout 0.3, lengths",
                     [](const std::vector<Tensor>& in) {
                         Generator generator(99);
                         return cross_attention(in[0], in[1], H, 2, 0.3f, true, generator, KeyPadding{{6, 2}, {}});
                     },
                     {normal_tensor({2, 3, H * hd}, 71), normal_tensor({2, 6, 4 * hd}, 72)});
}

TEST_CASE("cross attention: the gradient of only q or only kv when the other needs none") {
    const int64_t H = 2, hd = 3;
    expect_gradcheck("cross, q only", [](const std::vector<Tensor>& in) {
        Generator generator(5);
        return cross_attention(in[0], normal_tensor({2, 6, 2 * hd}, 81, false), H, 1, 0.0f, true, generator);
    }, {normal_tensor({2, 3, H * hd}, 80)});
    expect_gradcheck("cross, kv only", [](const std::vector<Tensor>& in) {
        Generator generator(5);
        return cross_attention(normal_tensor({2, 3, H * hd}, 80, false), in[0], H, 1, 0.0f, true, generator);
    }, {normal_tensor({2, 6, 2 * hd}, 81)});
    // One tensor as both q and kv (H·hd = 2·H_kv·hd): its gradient is the sum of both uses.
    expect_gradcheck("cross, q and kv one tensor", [](const std::vector<Tensor>& in) {
        Generator generator(5);
        return cross_attention(in[0], in[0], 2, 1, 0.0f, true, generator);
    }, {normal_tensor({2, 4, 2 * hd}, 82)});
}

TEST_CASE("padded keys change nothing: other values there give the same outputs and gradients bit for bit") {
    const int64_t H = 2, H_kv = 1, hd = 4, Tq = 6, Tk = 9;
    const KeyPadding padding{{9, 4, 0}, {}};
    auto run = [&](float junk) {
        Tensor q = normal_tensor({3, Tq, H * hd}, 90);
        Tensor kv = normal_tensor({3, Tk, 2 * H_kv * hd}, 91);
        for (int64_t b = 0; b < 3; ++b)
            for (int64_t j = padding.lengths[static_cast<size_t>(b)]; j < Tk; ++j)
                for (int64_t c = 0; c < 2 * H_kv * hd; ++c) kv.data()[(b * Tk + j) * 2 * H_kv * hd + c] = junk;
        Generator generator(3);
        Tensor y = cross_attention(q, kv, H, H_kv, 0.2f, true, generator, padding);
        y.backward(normal_tensor(y.shape(), 92, false));
        std::vector<float> dkv = kv.grad_tensor().to_vector();
        return std::vector<std::vector<float>>{y.to_vector(), q.grad_tensor().to_vector(), dkv};
    };
    const auto a = run(1e4f), b = run(-3.0f);
    CHECK(a == b);
    // Batch row 2 has no key: its outputs are 0, its queries get no gradient, and nothing is NaN.
    const int64_t row2 = 2 * Tq * H * hd;
    for (size_t i = 0; i < a[0].size(); ++i) {
        REQUIRE(std::isfinite(a[0][i]));
        if (static_cast<int64_t>(i) >= row2) CHECK(a[0][i] == 0.0f);
    }
    for (size_t i = static_cast<size_t>(row2); i < a[1].size(); ++i) CHECK(a[1][i] == 0.0f);
    // The padded keys and values get no gradient either.
    for (int64_t j = 4; j < Tk; ++j)
        for (int64_t c = 0; c < 2 * H_kv * hd; ++c) CHECK(a[2][static_cast<size_t>((Tk + j) * 2 * H_kv * hd + c)] == 0.0f);
}

TEST_CASE("a causal query whose keys are all padding (left padding) gives zeros and no NaN, in value and gradient") {
    const int64_t H = 2, hd = 3, T = 5;
    KeyPadding padding;
    padding.mask = {1, 1, 0, 0, 0};  // queries 0 and 1 see only padded keys
    Tensor qkv = normal_tensor({1, T, 6 * hd}, 100);
    Generator generator(1);
    Tensor y = self_attention(qkv, H, H, AttentionMode::causal, 0.0f, true, generator, padding);
    y.backward(normal_tensor(y.shape(), 101, false));
    const std::vector<float> out = y.to_vector(), grad = qkv.grad_tensor().to_vector();
    for (float v : out) REQUIRE(std::isfinite(v));
    for (float v : grad) REQUIRE(std::isfinite(v));
    for (int64_t i = 0; i < 2 * H * hd; ++i) CHECK(out[static_cast<size_t>(i)] == 0.0f);
    for (int64_t c = 0; c < 2 * H * hd; ++c) CHECK(out[static_cast<size_t>(2 * H * hd + c)] != 0.0f);
    for (int64_t c = 0; c < 6 * hd; ++c) CHECK(grad[static_cast<size_t>(c)] == 0.0f);  // token 0: q, k, v
}

TEST_CASE("padding forms agree bit for bit: no padding, full lengths and an all-zero mask; a prefix mask and lengths") {
    const int64_t H = 4, H_kv = 2, hd = 8, T = 70;
    for (AttentionMode mode : {AttentionMode::causal, AttentionMode::bidirectional}) {
        auto run = [&](const KeyPadding& padding) {
            Tensor qkv = normal_tensor({2, T, (H + 2 * H_kv) * hd}, 110);
            Generator generator(4);
            Tensor y = self_attention(qkv, H, H_kv, mode, 0.1f, true, generator, padding);
            y.backward(normal_tensor(y.shape(), 111, false));
            return std::vector<std::vector<float>>{y.to_vector(), qkv.grad_tensor().to_vector()};
        };
        const auto plain = run(KeyPadding{});
        CHECK(run(KeyPadding{{T, T}, {}}) == plain);
        CHECK(run(KeyPadding{{}, std::vector<uint8_t>(2 * T, 0)}) == plain);
        KeyPadding prefix;
        prefix.mask.assign(2 * T, 0);
        for (int64_t j = 50; j < T; ++j) prefix.mask[static_cast<size_t>(T + j)] = 1;
        CHECK(run(prefix) == run(KeyPadding{{T, 50}, {}}));
    }
    // causal_self_attention is the causal mode without padding.
    const Tensor qkv = normal_tensor({2, T, (H + 2 * H_kv) * hd}, 112, false);
    Generator a(1), b(1);
    CHECK(causal_self_attention(qkv, H, H_kv, 0.0f, false, a).to_vector() ==
          self_attention(qkv, H, H_kv, AttentionMode::causal, 0.0f, false, b).to_vector());
}

TEST_CASE("cross attention on the q and kv of a qkv equals bidirectional self-attention") {
    const int64_t B = 2, T = 70, H = 4, H_kv = 2, hd = 8, width = (H + 2 * H_kv) * hd;
    const Tensor qkv = normal_tensor({B, T, width}, 120, false);
    std::vector<float> q, kv;
    for (int64_t t = 0; t < B * T; ++t) {
        q.insert(q.end(), qkv.data() + t * width, qkv.data() + t * width + H * hd);
        kv.insert(kv.end(), qkv.data() + t * width + H * hd, qkv.data() + (t + 1) * width);
    }
    Generator generator(1);
    const std::vector<float> self =
        self_attention(qkv, H, H_kv, AttentionMode::bidirectional, 0.0f, false, generator).to_vector();
    const std::vector<float> cross = cross_attention(Tensor::from_vector({B, T, H * hd}, q),
                                                     Tensor::from_vector({B, T, 2 * H_kv * hd}, kv), H, H_kv, 0.0f,
                                                     false, generator)
                                         .to_vector();
    double worst = 0.0;
    for (size_t i = 0; i < self.size(); ++i) worst = std::max(worst, double(std::fabs(self[i] - cross[i])));
    MESSAGE("cross vs bidirectional self-attention on the same q, k, v: worst absolute difference " << worst);
    CHECK(worst < 1e-6);
}

TEST_CASE("bidirectional, cross and padded attention are bit-identical for 1, 2 and 3 threads on every kernel path") {
    const KernelPath saved_path = kernel_path();
    const int saved_threads = omp_get_max_threads();
    const int64_t H = 4, H_kv = 2, hd = 16;
    for (KernelPath path : supported_kernel_paths()) {
        set_kernel_path(path);
        CAPTURE(std::string(kernel_path_name(path)));
        std::vector<std::vector<float>> results[3];
        for (int threads : {1, 2, 3}) {
            omp_set_num_threads(threads);
            Tensor qkv = normal_tensor({3, 40, (H + 2 * H_kv) * hd}, 130);
            Tensor q = normal_tensor({3, 33, H * hd}, 131);
            Tensor kv = normal_tensor({3, 40, 2 * H_kv * hd}, 132);
            Generator generator(8);
            Tensor a = self_attention(qkv, H, H_kv, AttentionMode::bidirectional, 0.2f, true, generator, holes_mask(3, 40));
            Tensor c = self_attention(qkv, H, H_kv, AttentionMode::causal, 0.2f, true, generator, three_lengths(40));
            Tensor x = cross_attention(q, kv, H, H_kv, 0.2f, true, generator, three_lengths(40));
            sum_all(add(sum_all(mul(a, a)), add(sum_all(mul(c, c)), sum_all(mul(x, x))))).backward();
            results[threads - 1] = {a.to_vector(), c.to_vector(), x.to_vector(), qkv.grad_tensor().to_vector(),
                                    q.grad_tensor().to_vector(), kv.grad_tensor().to_vector()};
        }
        CHECK(results[0] == results[1]);
        CHECK(results[0] == results[2]);
    }
    omp_set_num_threads(saved_threads);
    set_kernel_path(saved_path);
}

TEST_CASE("the probability sink in bidirectional and cross mode: rows of [Tq, Tk], padded keys 0, rows sum to 1 or 0") {
    NoGradGuard no_grad;
    const int64_t H = 2, hd = 4, Tq = 3, Tk = 5;
    const Tensor q = normal_tensor({3, Tq, H * hd}, 140, false);
    const Tensor kv = normal_tensor({3, Tk, 2 * H * hd}, 141, false);
    AttentionInference inference;
    inference.want_probs = true;
    Generator generator(1);
    cross_attention(q, kv, H, H, 0.0f, false, generator, three_lengths(Tk), &inference);
    REQUIRE(inference.probs.shape() == Shape{3, H, Tq, Tk});
    for (int64_t b = 0; b < 3; ++b)
        for (int64_t r = 0; r < H * Tq; ++r) {
            const float* p = inference.probs.data() + (b * H * Tq + r) * Tk;
            double sum = 0.0;
            for (int64_t j = 0; j < Tk; ++j) {
                if (!unpadded(three_lengths(Tk), Tk, b, j)) CHECK(p[j] == 0.0f);
                sum += p[j];
            }
            CHECK(sum == doctest::Approx(b == 2 ? 0.0 : 1.0).epsilon(1e-6));
        }
    const Tensor qkv = normal_tensor({1, 4, 3 * H * hd}, 142, false);
    AttentionInference self_sink;
    self_sink.want_probs = true;
    self_attention(qkv, H, H, AttentionMode::bidirectional, 0.0f, false, generator, {}, &self_sink);
    REQUIRE(self_sink.probs.shape() == Shape{1, H, 4, 4});
    for (int64_t i = 0; i < self_sink.probs.numel(); ++i) CHECK(self_sink.probs.data()[i] > 0.0f);  // no causal zeros
}

TEST_CASE("attention modes reject bad padding, mismatched q/kv and a cache outside causal mode") {
    Generator generator(1);
    const Tensor qkv = Tensor::zeros({2, 3, 24});  // H 2, H_kv 1, hd 6
    auto bidirectional = [&](const KeyPadding& padding) {
        return self_attention(qkv, 2, 1, AttentionMode::bidirectional, 0.0f, false, generator, padding);
    };
    CHECK_THROWS_WITH_AS(bidirectional(KeyPadding{{3}, {}}),
                         doctest::Contains("bidirectional_self_attention: key padding: 1 lengths for a batch of 2"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(bidirectional(KeyPadding{{3, 4}, {}}),
                         doctest::Contains("length 4 of batch row 1 is outside [0, 3]"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(bidirectional(KeyPadding{{}, {0, 1}}), doctest::Contains("mask has 2 entries, want B·Tk = 2·3"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(bidirectional(KeyPadding{{3, 3}, std::vector<uint8_t>(6, 0)}),
                         doctest::Contains("give lengths or a mask, not both"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(self_attention(qkv, 5, 5, AttentionMode::bidirectional, 0.0f, false, generator),
                         doctest::Contains("bidirectional_self_attention: qkv last dim 24 is not divisible"),
                         std::invalid_argument);

    const Tensor q = Tensor::zeros({2, 4, 12});
    CHECK_THROWS_WITH_AS(cross_attention(q, Tensor::zeros({2, 5, 10}), 2, 1, 0.0f, false, generator),
                         doctest::Contains("cross_attention: kv [2, 5, 10] does not fit q [2, 4, 12]"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(cross_attention(q, Tensor::zeros({3, 5, 12}), 2, 1, 0.0f, false, generator),
                         doctest::Contains("does not fit"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(cross_attention(q, Tensor::zeros({2, 5, 12}), 5, 1, 0.0f, false, generator),
                         doctest::Contains("q last dim 12 is not divisible by n_head 5"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(cross_attention(Tensor::zeros({8, 12}), Tensor::zeros({2, 5, 12}), 2, 1, 0.0f, false, generator),
                         doctest::Contains("q must be [B, Tq, H·hd]"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(cross_attention(q, Tensor::zeros({2, 5, 12}), 2, 1, 0.0f, false, generator, KeyPadding{{5, 6}, {}}),
                         doctest::Contains("cross_attention: key padding: length 6"), std::invalid_argument);
    CHECK_NOTHROW(cross_attention(q, Tensor::zeros({2, 5, 12}), 2, 1, 0.0f, false, generator));

    std::vector<float> keys(64), values(64);
    AttentionInference cache{keys.data(), values.data(), 0, 8, false, Tensor()};
    const Tensor one = Tensor::zeros({1, 3, 24});
    CHECK_THROWS_WITH_AS(self_attention(one, 2, 1, AttentionMode::bidirectional, 0.0f, false, generator, {}, &cache),
                         doctest::Contains("a key/value cache is for causal attention without key padding"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(self_attention(one, 2, 1, AttentionMode::causal, 0.0f, false, generator, KeyPadding{{2}, {}}, &cache),
                         doctest::Contains("without key padding"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(cross_attention(q, Tensor::zeros({2, 5, 12}), 2, 1, 0.0f, false, generator, {}, &cache),
                         doctest::Contains("cross_attention: a key/value cache is for causal self-attention"),
                         std::invalid_argument);
    // A refused call leaves the cache as it was.
    std::fill(keys.begin(), keys.end(), 7.0f);
    CHECK_THROWS_WITH_AS(self_attention(Tensor::full({1, 3, 24}, 1.0f), 2, 1, AttentionMode::causal, 0.5f, true, generator, {}, &cache),
                         doctest::Contains("a key/value cache is for inference: no gradient, no dropout"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(self_attention(Tensor::full({1, 3, 24}, 1.0f), 2, 1, AttentionMode::causal, 1.5f, false, generator, {}, &cache),
                         doctest::Contains("dropout_p 1.500000 is outside [0, 1)"), std::invalid_argument);
    CHECK(std::all_of(keys.begin(), keys.end(), [](float k) { return k == 7.0f; }));
}
