#include <doctest/doctest.h>

#include <omp.h>

#include <cmath>
#include <stdexcept>
#include <vector>

#include "autograd/gradcheck.h"
#include "autograd/ops.h"
#include "common/random.h"

using namespace gpt;

namespace {

Tensor random_qkv(int64_t B, int64_t T, int64_t H, int64_t H_kv, int64_t hd, uint64_t seed, bool grad = true) {
    Generator generator(seed);
    std::vector<float> values(static_cast<size_t>(B * T * (H + 2 * H_kv) * hd));
    for (float& v : values) v = static_cast<float>(generator.normal());
    return Tensor::from_vector({B, T, (H + 2 * H_kv) * hd}, values, grad);
}

// Straightforward attention in double: full score rows with the mask as −inf, kv head h / (H/H_kv).
std::vector<double> naive_attention(const Tensor& qkv, int64_t H, int64_t H_kv) {
    const int64_t B = qkv.size(0), T = qkv.size(1), hd = qkv.size(2) / (H + 2 * H_kv), row = qkv.size(2);
    const float* x = qkv.data();
    std::vector<double> out(static_cast<size_t>(B * T * H * hd), 0.0);
    for (int64_t b = 0; b < B; ++b)
        for (int64_t h = 0; h < H; ++h) {
            const int64_t g = h / (H / H_kv);
            for (int64_t i = 0; i < T; ++i) {
                std::vector<double> s(static_cast<size_t>(T));
                double max = -INFINITY;
                for (int64_t j = 0; j < T; ++j) {
                    double dot = 0.0;
                    for (int64_t d = 0; d < hd; ++d)
                        dot += double(x[(b * T + i) * row + h * hd + d]) * x[(b * T + j) * row + (H + g) * hd + d];
                    s[j] = j <= i ? dot / std::sqrt(double(hd)) : -INFINITY;
                    max = std::max(max, s[j]);
                }
                double sum = 0.0;
                for (double& v : s) sum += (v = std::exp(v - max));
                for (int64_t j = 0; j < T; ++j)
                    for (int64_t d = 0; d < hd; ++d)
                        out[((b * T + i) * H + h) * hd + d] +=
                            s[j] / sum * x[(b * T + j) * row + (H + H_kv + g) * hd + d];
            }
        }
    return out;
}

// The outputs are float32 sums over up to T keys, and perturbing one k or v element moves every later
// query of its kv group, so the probed loss carries ~1e-7 relative rounding from dozens of outputs:
// ~1e-5 absolute in a central difference at eps = 1e-2 (measured: errors shrink as eps grows, so they
// are rounding, not truncation). Gradients under 1e-2 are therefore judged absolutely (to 1e-4), the
// rest relatively (to 1e-2).
GradcheckOptions attention_options() {
    GradcheckOptions o;
    o.epsilon = 1e-2;
    o.abs_floor = 1e-2;
    return o;
}

}  // namespace

TEST_CASE("causal_self_attention forward on a hand-computed two-token case") {
    // B = T·1, H = H_kv = 1, hd = 1 (scale 1). Tokens (q, k, v): (1, 2, 3) and (1, 0, 5).
    // t0 sees only itself: out 3. t1: scores [1·2, 1·0] → P = [e²/(e²+1), 1/(e²+1)] = [0.8807971, 0.1192029]
    // → out = 3·0.8807971 + 5·0.1192029 = 3.2384058.
    Tensor qkv = Tensor::from_vector({1, 2, 3}, {1, 2, 3, 1, 0, 5});
    Generator generator(1);
    const std::vector<float> y = causal_self_attention(qkv, 1, 1, 0.0f, true, generator).to_vector();
    REQUIRE(y.size() == 2);
    CHECK(y[0] == doctest::Approx(3.0));
    CHECK(y[1] == doctest::Approx(3.2384058).epsilon(1e-6));
}

TEST_CASE("causal_self_attention forward matches a double reference, MHA and GQA") {
    for (int64_t H_kv : {4, 2, 1}) {
        Tensor qkv = random_qkv(2, 7, 4, H_kv, 5, 10 + static_cast<uint64_t>(H_kv), false);
        Generator generator(1);
        Tensor y = causal_self_attention(qkv, 4, H_kv, 0.0f, false, generator);
        CHECK(y.shape() == Shape{2, 7, 20});
        const std::vector<double> ref = naive_attention(qkv, 4, H_kv);
        double worst = 0.0;
        for (size_t i = 0; i < ref.size(); ++i) worst = std::max(worst, std::fabs(ref[i] - y.data()[i]));
        MESSAGE("attention H 4, H_kv " << H_kv << ": worst absolute forward error " << worst);
        CHECK(worst < 1e-5);
    }
}

TEST_CASE("causal_self_attention backward: gradcheck with n_kv_head = n_head, 2, 1") {
    for (int64_t H_kv : {4, 2, 1}) {
        Tensor qkv = random_qkv(2, 5, 4, H_kv, 3, 20 + static_cast<uint64_t>(H_kv));
        const GradcheckResult result = gradcheck(
            [H_kv](const std::vector<Tensor>& in) {
                Generator generator(5);
                return causal_self_attention(in[0], 4, H_kv, 0.0f, true, generator);
            },
            {qkv}, attention_options());
        MESSAGE("attention gradcheck H 4, H_kv " << H_kv << ": worst relative error " << result.max_rel_error << " ("
                                                 << result.worst << ")");
        CHECK(result.ok);
    }
}

TEST_CASE("causal_self_attention backward with dropout: the regenerated mask matches the forward's") {
    for (int64_t H_kv : {4, 1}) {
        Tensor qkv = random_qkv(2, 5, 4, H_kv, 3, 30 + static_cast<uint64_t>(H_kv));
        const GradcheckResult result = gradcheck(
            [H_kv](const std::vector<Tensor>& in) {
                Generator generator(99);  // same seed every call: the same masks
                return causal_self_attention(in[0], 4, H_kv, 0.3f, true, generator);
            },
            {qkv}, attention_options());
        MESSAGE("attention + dropout 0.3 gradcheck H_kv " << H_kv << ": worst relative error " << result.max_rel_error
                                                          << " (" << result.worst << ")");
        CHECK(result.ok);
    }
}

TEST_CASE("attention dropout: deterministic per seed, identity at p = 0 and in eval") {
    Tensor qkv = random_qkv(2, 6, 2, 1, 4, 40, false);
    Generator plain(0);
    const std::vector<float> reference = causal_self_attention(qkv, 2, 1, 0.0f, false, plain).to_vector();

    Generator a(123), b(123), c(124);
    const std::vector<float> ya = causal_self_attention(qkv, 2, 1, 0.5f, true, a).to_vector();
    const std::vector<float> yb = causal_self_attention(qkv, 2, 1, 0.5f, true, b).to_vector();
    const std::vector<float> yc = causal_self_attention(qkv, 2, 1, 0.5f, true, c).to_vector();
    CHECK(ya == yb);
    CHECK(ya != yc);
    CHECK(ya != reference);
    CHECK(a.state() == b.state());  // one draw per call
    CHECK(a.state() != Generator(123).state());

    Generator eval_gen(7), p0_gen(7);
    CHECK(causal_self_attention(qkv, 2, 1, 0.5f, false, eval_gen).to_vector() == reference);
    CHECK(causal_self_attention(qkv, 2, 1, 0.0f, true, p0_gen).to_vector() == reference);
    CHECK(eval_gen.state() == Generator(7).state());  // no draw when dropout is off
    CHECK(p0_gen.state() == Generator(7).state());
}

TEST_CASE("attention dropout statistics: keep rate 1 − p, kept weights scaled by 1/(1 − p)") {
    // q = k = 0 makes P_ij = 1/(i+1); v_j = e_j (hd = T) makes out_i[d] = mask_id / ((i+1)(1 − p)) for
    // d ≤ i, so every mask entry can be read back from the output.
    const int64_t B = 4, T = 48, H = 4, hd = T;
    const float p = 0.3f;
    std::vector<float> values(static_cast<size_t>(B * T * 3 * H * hd), 0.0f);
    for (int64_t b = 0; b < B; ++b)
        for (int64_t t = 0; t < T; ++t)
            for (int64_t h = 0; h < H; ++h) values[static_cast<size_t>((b * T + t) * 3 * H * hd + (2 * H + h) * hd + t)] = 1;
    Tensor qkv = Tensor::from_vector({B, T, 3 * H * hd}, values);
    Generator generator(2024);
    Tensor y = causal_self_attention(qkv, H, H, p, true, generator);

    int64_t kept = 0, total = 0, bad_values = 0, same_as_first_head = 0;
    for (int64_t b = 0; b < B; ++b)
        for (int64_t h = 0; h < H; ++h)
            for (int64_t i = 0; i < T; ++i)
                for (int64_t d = 0; d <= i; ++d) {
                    const double scaled = y.data()[((b * T + i) * H + h) * hd + d] * (i + 1) * (1.0 - p);
                    const bool keep = scaled > 0.5;
                    if (std::fabs(scaled - (keep ? 1.0 : 0.0)) > 1e-4) ++bad_values;
                    kept += keep;
                    ++total;
                    const bool keep0 = y.data()[((b * T + i) * H + 0) * hd + d] > 0.0f;
                    if (h > 0) same_as_first_head += keep == keep0;
                }
    const double rate = double(kept) / double(total);
    const double sigma = std::sqrt(p * (1.0 - p) / double(total));
    MESSAGE("attention dropout keep rate " << rate << " over " << total << " weights (expected " << 1.0 - p
                                           << ", sigma " << sigma << ")");
    CHECK(bad_values == 0);
    CHECK(std::fabs(rate - (1.0 - p)) < 5 * sigma);
    // Heads use independent streams: agreement with head 0 is p² + (1−p)² = 0.58, not 1.
    const double agreement = double(same_as_first_head) / double(total * (H - 1) / H);
    CHECK(agreement == doctest::Approx(0.58).epsilon(0.05));
}

TEST_CASE("attention results do not depend on the thread count") {
    Tensor qkv = random_qkv(2, 32, 4, 2, 16, 50);  // above the parallel threshold
    Tensor dy = random_qkv(2, 32, 4, 0, 16, 51, false).view({2, 32, 64});
    std::vector<std::vector<float>> outputs, grads;
    const int saved_threads = omp_get_max_threads();
    for (int threads : {1, 2, 3}) {
        omp_set_num_threads(threads);
        Generator generator(8);
        qkv.zero_grad();
        Tensor y = causal_self_attention(qkv, 4, 2, 0.2f, true, generator);
        y.backward(dy);
        outputs.push_back(y.to_vector());
        grads.push_back(qkv.grad_tensor().to_vector());
    }
    omp_set_num_threads(saved_threads);
    CHECK(outputs[0] == outputs[1]);
    CHECK(outputs[0] == outputs[2]);
    CHECK(grads[0] == grads[1]);
    CHECK(grads[0] == grads[2]);
}

TEST_CASE("causal_self_attention rejects bad head counts and shapes") {
    Generator generator(1);
    Tensor qkv = Tensor::zeros({1, 2, 24});
    CHECK_THROWS_WITH_AS(causal_self_attention(qkv, 3, 2, 0.0f, false, generator),
                         doctest::Contains("n_head 3 is not a multiple of n_kv_head 2"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(causal_self_attention(qkv, 5, 5, 0.0f, false, generator),
                         doctest::Contains("not divisible by n_head + 2·n_kv_head = 15"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(causal_self_attention(Tensor::zeros({2, 24}), 2, 1, 0.0f, false, generator),
                         doctest::Contains("causal_self_attention"), std::invalid_argument);
    CHECK_THROWS_AS(causal_self_attention(qkv, 2, 1, 1.0f, true, generator), std::invalid_argument);
    CHECK_NOTHROW(causal_self_attention(qkv, 2, 1, 0.0f, false, generator));  // 24 = (2 + 2)·6
}

// ForwardProbe through the same op: a sequence fed in chunks through a key/value cache gives the outputs of
// one full call, and the probability sink holds rows that sum to 1 and reproduce the output.
TEST_CASE("causal_self_attention with a cache and a probability sink equals the full call") {
    const int64_t T = 70, H = 4, hd = 8;  // 70 > one 64-row block
    for (int64_t H_kv : {4, 2, 1}) {
        CAPTURE(H_kv);
        NoGradGuard no_grad;
        Generator generator(1);
        const Tensor qkv = random_qkv(1, T, H, H_kv, hd, 40 + H_kv, false);
        const std::vector<float> full = causal_self_attention(qkv, H, H_kv, 0.0f, false, generator).to_vector();
        const int64_t row = qkv.size(2), width = H_kv * hd;
        std::vector<float> keys(static_cast<size_t>(T * width)), values(keys.size());
        int64_t cached = 0;
        for (int64_t chunk : {5, 1, 60, 1, 3}) {
            const Tensor part = Tensor::from_vector(
                {1, chunk, row}, std::vector<float>(qkv.data() + cached * row, qkv.data() + (cached + chunk) * row));
            AttentionInference inference{keys.data(), values.data(), cached, T, true, Tensor()};
            const Tensor y = causal_self_attention(part, H, H_kv, 0.0f, false, generator, &inference);
            REQUIRE(inference.probs.shape() == Shape{1, H, chunk, cached + chunk});
            for (int64_t i = 0; i < chunk; ++i)
                for (int64_t h = 0; h < H; ++h) {
                    const float* p = inference.probs.data() + (h * chunk + i) * (cached + chunk);
                    double sum = 0.0;
                    for (int64_t j = 0; j < cached + chunk; ++j) {
                        if (j > cached + i) CHECK(p[j] == 0.0f);
                        sum += p[j];
                    }
                    CHECK(sum == doctest::Approx(1.0).epsilon(1e-6));
                    for (int64_t d = 0; d < hd; ++d) {
                        const float want = full[static_cast<size_t>((cached + i) * H * hd + h * hd + d)];
                        CHECK(y.data()[(i * H + h) * hd + d] == doctest::Approx(want).epsilon(1e-5));
                    }
                }
            cached += chunk;
        }
        AttentionInference overflow{keys.data(), values.data(), T, T, false, Tensor()};
        CHECK_THROWS_WITH(causal_self_attention(random_qkv(1, 1, H, H_kv, hd, 3, false), H, H_kv, 0.0f, false,
                                                generator, &overflow),
                          doctest::Contains("exceed the cache"));
    }
}
