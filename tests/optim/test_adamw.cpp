// AdamW: the formula by hand on known values, the weight-decay groups, state save/restore, and 5 steps
// against torch.optim.AdamW fed the same gradients (tests/optim/reference_adamw.py).
#include <doctest/doctest.h>

#include <omp.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <sys/wait.h>

#include "optim/adamw.h"
#include "tests/reference_python.h"

using namespace gpt;

namespace {

void set_grad(const Tensor& t, const std::vector<float>& g) {
    REQUIRE(static_cast<int64_t>(g.size()) == t.numel());
    float* buffer = t.grad_buffer();
    for (size_t i = 0; i < g.size(); ++i) buffer[i] = g[i];
}

// The textbook formula in double, one parameter, from step t-1 state (m, v) to step t.
struct Reference {
    std::vector<double> p, m, v;
    void step(const std::vector<float>& g, int t, const AdamWOptions& o, bool decay) {
        for (size_t i = 0; i < p.size(); ++i) {
            if (decay) p[i] -= double(o.lr) * o.weight_decay * p[i];
            m[i] = o.beta1 * m[i] + (1.0 - o.beta1) * g[i];
            v[i] = o.beta2 * v[i] + (1.0 - o.beta2) * double(g[i]) * g[i];
            const double m_hat = m[i] / (1.0 - std::pow(double(o.beta1), t));
            const double v_hat = v[i] / (1.0 - std::pow(double(o.beta2), t));
            p[i] -= o.lr * m_hat / (std::sqrt(v_hat) + o.eps);
        }
    }
};

void check_close(const Tensor& t, const std::vector<double>& expected, double rel) {
    for (int64_t i = 0; i < t.numel(); ++i) {
        const double want = expected[static_cast<size_t>(i)];
        CHECK(std::abs(t.data()[i] - want) <= rel * std::max(std::abs(want), 1e-30));
    }
}

std::string hex(float x) {
    char buffer[48];
    std::snprintf(buffer, sizeof buffer, "%a", static_cast<double>(x));
    return buffer;
}

}  // namespace

TEST_CASE("one and two AdamW steps on known values match the formula") {
    AdamWOptions o;
    o.lr = 0.01f;
    o.beta1 = 0.9f;
    o.beta2 = 0.99f;
    o.eps = 1e-8f;
    o.weight_decay = 0.1f;
    const std::vector<float> w0 = {1.0f, -2.0f, 0.5f, 3.0f}, b0 = {0.5f, -0.25f};
    Tensor w = Tensor::from_vector({2, 2}, w0, true);
    Tensor b = Tensor::from_vector({2}, b0, true);
    AdamW adam({{"w", w}, {"b", b}}, o);
    Reference rw{{w0.begin(), w0.end()}, std::vector<double>(4), std::vector<double>(4)};
    Reference rb{{b0.begin(), b0.end()}, std::vector<double>(2), std::vector<double>(2)};

    const std::vector<std::vector<float>> gw = {{0.1f, -0.2f, 0.3f, 0.0f}, {-0.05f, 0.4f, 0.3f, 1e-3f}};
    const std::vector<std::vector<float>> gb = {{1.0f, -1.0f}, {0.5f, 2.0f}};
    for (int t = 1; t <= 2; ++t) {
        set_grad(w, gw[t - 1]);
        set_grad(b, gb[t - 1]);
        adam.step();
        rw.step(gw[t - 1], t, o, true);
        rb.step(gb[t - 1], t, o, false);
        check_close(w, rw.p, 1e-6);
        check_close(b, rb.p, 1e-6);
        for (size_t i = 0; i < 4; ++i) CHECK(adam.first_moment("w")[i] == doctest::Approx(rw.m[i]).epsilon(1e-6));
        for (size_t i = 0; i < 2; ++i) CHECK(adam.second_moment("b")[i] == doctest::Approx(rb.v[i]).epsilon(1e-6));
    }
    CHECK(adam.step_count() == 2);
    // First step by hand for one element: m̂ = g, v̂ = g², so p = 1·(1 − 0.001) − 0.01·0.1/(0.1 + 1e-8).
    Tensor w1 = Tensor::from_vector({1, 1}, {1.0f}, true);
    AdamW single({{"w", w1}}, o);
    set_grad(w1, {0.1f});
    single.step();
    CHECK(w1.data()[0] == doctest::Approx(0.999 - 0.01 * 0.1 / (0.1 + 1e-8)).epsilon(1e-7));
}

TEST_CASE("weight decay only on parameters with two or more dimensions") {
    AdamWOptions o;
    o.lr = 0.1f;
    o.weight_decay = 0.5f;
    Tensor matrix = Tensor::full({2, 3}, 2.0f, true);
    Tensor embedding = Tensor::full({4, 1}, 2.0f, true);
    Tensor bias = Tensor::full({3}, 2.0f, true);
    Tensor gain = Tensor::full({3}, 2.0f, true);
    AdamW adam({{"h.0.w", matrix}, {"wte", embedding}, {"h.0.b", bias}, {"ln.g", gain}}, o);
    CHECK(adam.decays("h.0.w"));
    CHECK(adam.decays("wte"));
    CHECK_FALSE(adam.decays("h.0.b"));
    CHECK_FALSE(adam.decays("ln.g"));
    // A zero gradient isolates the decay: m = v = 0, so the Adam update is 0 / (0 + eps) = 0.
    for (const Tensor& t : {matrix, embedding, bias}) t.grad_buffer();
    adam.step();
    CHECK(matrix.data()[0] == 2.0f * static_cast<float>(1.0 - 0.1 * 0.5));
    CHECK(embedding.data()[3] == 2.0f * static_cast<float>(1.0 - 0.1 * 0.5));
    CHECK(bias.data()[0] == 2.0f);
    // No gradient buffer at all: skipped, as PyTorch skips p.grad None.
    CHECK(gain.grad() == nullptr);
    CHECK(gain.data()[2] == 2.0f);
    CHECK(adam.step_count() == 1);
    CHECK_THROWS_WITH(adam.decays("nope"), doctest::Contains("no parameter named 'nope'"));
}

TEST_CASE("options and parameters are validated") {
    Tensor a = Tensor::zeros({2}, true);
    auto with = [](auto set) {
        AdamWOptions o;
        set(o);
        return o;
    };
    CHECK_THROWS_WITH(AdamW({{"a", a}}, with([](AdamWOptions& o) { o.lr = -1.0f; })),
                      doctest::Contains("AdamW: lr must be finite and >= 0, got -1"));
    CHECK_THROWS_WITH(AdamW({{"a", a}}, with([](AdamWOptions& o) { o.beta1 = 1.0f; })),
                      doctest::Contains("beta1 must be in [0, 1), got 1"));
    CHECK_THROWS_WITH(AdamW({{"a", a}}, with([](AdamWOptions& o) { o.beta2 = NAN; })), doctest::Contains("beta2"));
    CHECK_THROWS_WITH(AdamW({{"a", a}}, with([](AdamWOptions& o) { o.eps = -1e-8f; })), doctest::Contains("eps"));
    CHECK_THROWS_WITH(AdamW({{"a", a}}, with([](AdamWOptions& o) { o.weight_decay = -0.1f; })),
                      doctest::Contains("weight_decay must be finite and >= 0"));
    CHECK_THROWS_WITH(AdamW({{"a", a}, {"a", Tensor::zeros({1})}}), doctest::Contains("'a' appears twice"));
    CHECK_THROWS_WITH(AdamW({{"a", a}, {"b", a}}), doctest::Contains("'a' and 'b' are the same tensor"));
    CHECK_THROWS_WITH(AdamW({{"", a}}), doctest::Contains("non-empty"));
    CHECK_THROWS_WITH(AdamW({{"u", Tensor()}}), doctest::Contains("'u' is an undefined tensor"));
    AdamW adam({{"a", a}});
    CHECK_THROWS_WITH(adam.set_lr(-0.5f), doctest::Contains("set_lr"));
}

TEST_CASE("zero_grad, set_lr and lr = 0") {
    Tensor a = Tensor::from_vector({2}, {1.0f, 2.0f}, true);
    AdamW adam({{"a", a}});
    set_grad(a, {3.0f, -4.0f});
    adam.set_lr(0.0f);
    adam.step();
    CHECK(a.to_vector() == std::vector<float>{1.0f, 2.0f});  // lr 0: no decay (1-D anyway), no update
    CHECK(adam.first_moment("a")[0] != 0.0f);                 // but the moments moved
    adam.zero_grad();
    CHECK(a.grad()[0] == 0.0f);
    CHECK(a.grad()[1] == 0.0f);
    adam.set_lr(0.5f);
    CHECK(adam.options().lr == 0.5f);
}

TEST_CASE("state round trip: a restored optimizer continues bit-identically") {
    std::mt19937 rng(3);
    std::normal_distribution<float> normal;
    auto random_vector = [&](size_t n) {
        std::vector<float> v(n);
        for (float& x : v) x = normal(rng);
        return v;
    };
    const std::vector<float> w0 = random_vector(12), b0 = random_vector(4);
    std::vector<std::vector<float>> grads;
    for (int s = 0; s < 10; ++s) grads.push_back(random_vector(16));
    auto feed = [&](const Tensor& w, const Tensor& b, int s) {
        set_grad(w, {grads[s].begin(), grads[s].begin() + 12});
        set_grad(b, {grads[s].begin() + 12, grads[s].end()});
    };

    Tensor w = Tensor::from_vector({3, 4}, w0, true), b = Tensor::from_vector({4}, b0, true);
    AdamW straight({{"w", w}, {"b", b}});
    for (int s = 0; s < 5; ++s) feed(w, b, s), straight.step();

    Tensor w2 = Tensor::from_vector({3, 4}, w0, true), b2 = Tensor::from_vector({4}, b0, true);
    AdamW first({{"w", w2}, {"b", b2}});
    for (int s = 0; s < 3; ++s) feed(w2, b2, s), first.step();
    const AdamWState saved = first.state();
    CHECK(saved.step == 3);
    Tensor w3 = w2.clone(), b3 = b2.clone();
    AdamW resumed({{"w", w3}, {"b", b3}});
    resumed.load_state(saved.step, saved.moments);
    CHECK(resumed.step_count() == 3);
    for (int s = 3; s < 5; ++s) feed(w3, b3, s), resumed.step();
    CHECK(w3.to_vector() == w.to_vector());
    CHECK(b3.to_vector() == b.to_vector());
    CHECK(resumed.second_moment("w") == straight.second_moment("w"));

    AdamWState missing = saved;
    missing.moments.erase("b");
    CHECK_THROWS_WITH(resumed.load_state(missing), doctest::Contains("no moments for parameter 'b'"));
    AdamWState short_v = saved;
    short_v.moments["w"].v.pop_back();
    CHECK_THROWS_WITH(resumed.load_state(short_v),
                      doctest::Contains("parameter 'w' has 12 elements, moments have 12 (m) and 11 (v)"));
    AdamWState extra = saved;
    extra.moments["ghost"] = {};
    CHECK_THROWS_WITH(resumed.load_state(extra), doctest::Contains("unknown parameter 'ghost'"));
    CHECK(resumed.step_count() == 5);  // a refused load changed nothing
}

TEST_CASE("5 steps match torch.optim.AdamW fed the same gradients") {
    AdamWOptions o;
    o.lr = 3e-3f;
    o.beta1 = 0.9f;
    o.beta2 = 0.95f;
    o.eps = 1e-8f;
    o.weight_decay = 0.1f;
    constexpr int kSteps = 5;
    // Shapes as in a GPT; "big" has more elements than the OpenMP threshold; "late.bias" gets its first
    // gradient at step 2 (skipped before, and then its own bias correction starts at t = 1).
    const std::vector<std::pair<std::string, Shape>> shapes = {
        {"wte.weight", {8, 16}}, {"ln_f.weight", {16}}, {"h.0.attn.c_attn.weight", {16, 48}},
        {"big.weight", {300, 200}}, {"late.bias", {5}}};
    std::mt19937 rng(42);
    std::normal_distribution<float> normal;
    NamedTensors params;
    for (const auto& [name, shape] : shapes) {
        Tensor t = Tensor::empty(shape, true);
        for (int64_t i = 0; i < t.numel(); ++i) t.data()[i] = 0.5f * normal(rng);
        params.emplace_back(name, t);
    }
    const std::string dir = std::string(GPT_BINARY_DIR) + "/tmp_test_optim";
    std::filesystem::create_directories(dir);
    const std::string input = dir + "/adamw_in.txt", output = dir + "/adamw_out.txt";
    std::ofstream in(input);
    in << "hyper " << hex(o.lr) << ' ' << hex(o.beta1) << ' ' << hex(o.beta2) << ' ' << hex(o.eps) << ' '
       << hex(o.weight_decay) << ' ' << kSteps << '\n';
    for (const auto& [name, t] : params) {
        in << "param " << name << ' ' << (t.dim() >= 2 ? 1 : 0) << ' ' << t.dim();
        for (int64_t d : t.shape()) in << ' ' << d;
        for (int64_t i = 0; i < t.numel(); ++i) in << ' ' << hex(t.data()[i]);
        in << '\n';
    }

    AdamW adam(params, o);
    for (int step = 0; step < kSteps; ++step) {
        for (size_t p = 0; p < params.size(); ++p) {
            const auto& [name, t] = params[p];
            if (name == "late.bias" && step < 2) continue;
            float* g = t.grad_buffer();
            for (int64_t i = 0; i < t.numel(); ++i) {
                // Mixed scales, exact zeros and tiny values, where Adam's normalisation is most sensitive.
                const int64_t k = (i + step) % 7;
                g[i] = k == 0 ? 0.0f : k == 1 ? 1e-7f * normal(rng) : (k == 2 ? 10.0f : 0.01f) * normal(rng);
            }
            in << "grad " << step << ' ' << name;
            for (int64_t i = 0; i < t.numel(); ++i) in << ' ' << hex(g[i]);
            in << '\n';
        }
        adam.step();
    }
    in.close();

    const std::string command = std::string(GPT_PYTHON) + " " + GPT_SOURCE_DIR "/tests/optim/reference_adamw.py " +
                                input + " " + output;
    const int status = std::system(command.c_str());
    if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
        gpt::test::reference_unavailable("torch cannot be imported by " GPT_PYTHON);
        return;
    }
    REQUIRE(status == 0);
    std::ifstream out(output);
    std::map<std::string, std::vector<double>> reference;
    std::string line;
    while (std::getline(out, line)) {
        std::istringstream fields(line);
        std::string name, value;
        fields >> name;
        while (fields >> value) reference[name].push_back(std::strtod(value.c_str(), nullptr));
    }
    double max_rel = 0.0;
    int64_t identical = 0, total = 0;
    for (const auto& [name, t] : params) {
        REQUIRE(reference.count(name));
        const std::vector<double>& want = reference[name];
        REQUIRE(static_cast<int64_t>(want.size()) == t.numel());
        for (int64_t i = 0; i < t.numel(); ++i) {
            const double got = t.data()[i], ref = want[static_cast<size_t>(i)];
            max_rel = std::max(max_rel, std::abs(got - ref) / std::max(std::abs(ref), 1e-30));
            identical += got == ref;
            ++total;
        }
    }
    MESSAGE("vs torch.optim.AdamW after 5 steps: max relative difference " << max_rel << ", " << identical << " of "
                                                                            << total << " parameters bit-identical");
    CHECK(max_rel <= 1e-6);
}

TEST_CASE("step with update norms: the same update, and the norms a copy of the weights would give") {
    std::mt19937 rng(11);
    std::normal_distribution<float> normal;
    auto random_vector = [&](size_t n) {
        std::vector<float> v(n);
        for (float& x : v) x = normal(rng);
        return v;
    };
    // 40,000 elements: above the size where the plain step runs in parallel.
    const std::vector<float> w0 = random_vector(200 * 200), b0 = random_vector(200);
    const std::vector<float> gw = random_vector(w0.size()), gb = random_vector(b0.size());
    Tensor w = Tensor::from_vector({200, 200}, w0, true), b = Tensor::from_vector({200}, b0, true);
    Tensor w2 = Tensor::from_vector({200, 200}, w0, true), b2 = Tensor::from_vector({200}, b0, true);
    Tensor unused = Tensor::from_vector({3}, {1.0f, 2.0f, 3.0f}, true);  // never gets a gradient
    AdamWOptions options;
    options.lr = 0.01f;
    AdamW plain({{"w", w}, {"b", b}}, options), measured({{"w", w2}, {"b", b2}, {"unused", unused}}, options);
    for (int s = 0; s < 2; ++s) {
        set_grad(w, gw), set_grad(b, gb), set_grad(w2, gw), set_grad(b2, gb);
        const std::vector<float> w_before = w2.to_vector(), b_before = b2.to_vector();
        plain.step();
        std::vector<AdamWUpdateNorm> norms;
        measured.step(norms);
        CHECK(w2.to_vector() == w.to_vector());  // bitwise
        CHECK(b2.to_vector() == b.to_vector());
        REQUIRE(norms.size() == 3);
        CHECK(norms[0].name == "w");
        CHECK(norms[1].name == "b");
        CHECK(norms[2].name == "unused");
        CHECK(norms[2].update_sq == 0.0);
        // The sums of the weights before and after, in double, in the order AdamW fixes: blocks of 4096
        // elements; in a block, lane l sums the elements i ≡ l (mod 8) in order, the lanes added 0 to 7;
        // the blocks' sums added in order (so the same for any thread count).
        auto sums = [](const std::vector<float>& before, const std::vector<float>& after) {
            double update = 0.0, weight = 0.0;
            for (size_t start = 0; start < before.size(); start += 4096) {
                double update_lane[8] = {}, weight_lane[8] = {};
                for (size_t i = start; i < std::min(before.size(), start + 4096); ++i) {
                    const double x = before[i], delta = static_cast<double>(after[i]) - x;
                    update_lane[(i - start) % 8] += delta * delta;
                    weight_lane[(i - start) % 8] += x * x;
                }
                double block_update = 0.0, block_weight = 0.0;
                for (int l = 0; l < 8; ++l) {
                    block_update += update_lane[l];
                    block_weight += weight_lane[l];
                }
                update += block_update;
                weight += block_weight;
            }
            return std::make_pair(update, weight);
        };
        const auto [w_update, w_weight] = sums(w_before, w2.to_vector());
        const auto [b_update, b_weight] = sums(b_before, b2.to_vector());
        // The same order of additions; whether the compiler fuses a product into its addition (an FMA,
        // -ffp-contract) may differ between this file and optim/ in the last bits, so not ==.
        CHECK(norms[0].update_sq == doctest::Approx(w_update).epsilon(1e-13));
        CHECK(norms[0].weight_sq == doctest::Approx(w_weight).epsilon(1e-13));
        CHECK(norms[1].update_sq == doctest::Approx(b_update).epsilon(1e-13));
        CHECK(norms[1].weight_sq == doctest::Approx(b_weight).epsilon(1e-13));
        CHECK(norms[0].update_sq > 0.0);
    }
}

TEST_CASE("step with update norms: the same norms and weights for any thread count") {
    std::mt19937 rng(12);
    std::normal_distribution<float> normal;
    std::vector<float> w0(300 * 301), g(w0.size());  // 22 blocks of 4096, the last one partial
    for (float& x : w0) x = normal(rng);
    for (float& x : g) x = normal(rng);
    std::vector<AdamWUpdateNorm> norms[2];
    std::vector<float> after[2];
    const int threads = omp_get_max_threads();
    for (int t : {1, 2}) {
        omp_set_num_threads(t);
        Tensor w = Tensor::from_vector({300, 301}, w0, true);
        AdamW optimizer({{"w", w}}, AdamWOptions{});
        for (int s = 0; s < 2; ++s) {
            set_grad(w, g);
            optimizer.step(norms[t - 1]);
        }
        after[t - 1] = w.to_vector();
    }
    omp_set_num_threads(threads);
    CHECK(after[0] == after[1]);
    CHECK(norms[0][0].update_sq == norms[1][0].update_sq);  // bitwise
    CHECK(norms[0][0].weight_sq == norms[1][0].weight_sq);
    CHECK(norms[0][0].update_sq > 0.0);
}

TEST_CASE("sharded (ZeRO-1): two optimizers owning halves update exactly as one that owns all") {
    std::mt19937 rng(5);
    std::normal_distribution<float> normal;
    auto random_vector = [&](size_t n) {
        std::vector<float> v(n);
        for (float& x : v) x = normal(rng);
        return v;
    };
    const std::vector<float> w0 = random_vector(12), b0 = random_vector(4);
    std::vector<std::vector<float>> grads;
    for (int s = 0; s < 4; ++s) grads.push_back(random_vector(16));
    auto feed = [&](const Tensor& w, const Tensor& b, int s) {
        set_grad(w, {grads[s].begin(), grads[s].begin() + 12});
        set_grad(b, {grads[s].begin() + 12, grads[s].end()});
    };
    Tensor w = Tensor::from_vector({3, 4}, w0, true), b = Tensor::from_vector({4}, b0, true);
    AdamW whole({{"w", w}, {"b", b}});
    for (int s = 0; s < 4; ++s) feed(w, b, s), whole.step();

    // Shards [0, 10) and [10, 16) of the 16 elements laid end to end: the second starts inside w.
    Tensor w2 = Tensor::from_vector({3, 4}, w0, true), b2 = Tensor::from_vector({4}, b0, true);
    AdamW low({{"w", w2}, {"b", b2}}, {}, AdamWShard{0, 10});
    Tensor w3 = Tensor::from_vector({3, 4}, w0, true), b3 = Tensor::from_vector({4}, b0, true);
    AdamW high({{"w", w3}, {"b", b3}}, {}, AdamWShard{10, 16});
    CHECK(low.owned_range("w") == std::pair<int64_t, int64_t>{0, 10});
    CHECK(low.owned_range("b") == std::pair<int64_t, int64_t>{0, 0});
    CHECK(high.owned_range("w") == std::pair<int64_t, int64_t>{10, 12});
    CHECK(high.first_moment("b").size() == 4);
    for (int s = 0; s < 4; ++s) feed(w2, b2, s), low.step(), feed(w3, b3, s), high.step();
    const std::vector<float> want_w = w.to_vector(), low_w = w2.to_vector(), high_w = w3.to_vector();
    for (size_t i = 0; i < 12; ++i) CHECK((i < 10 ? low_w[i] : high_w[i]) == want_w[i]);  // bit for bit
    CHECK(b3.to_vector() == b.to_vector());
    CHECK(b2.to_vector() == b0);  // not owned: untouched (the all-gather brings it)

    // A sharded optimizer takes a checkpoint's full moments and keeps its range.
    AdamW restored({{"w", w3.clone()}, {"b", b3.clone()}}, {}, AdamWShard{10, 16});
    restored.load_state(whole.state());
    CHECK(restored.first_moment("w") == std::vector<float>(whole.first_moment("w").begin() + 10, whole.first_moment("w").end()));
    CHECK(restored.second_moment("b") == whole.second_moment("b"));
    CHECK_THROWS_WITH(AdamW({{"w", w}}, {}, AdamWShard{4, 20}), doctest::Contains("outside the 12 parameter elements"));
}
