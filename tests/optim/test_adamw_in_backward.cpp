// The optimizer in backward (optim/adamw_in_backward.h): the same bits as backward → AdamW::step(), on a
// GPT with a tied embedding and dropout; a non-finite gradient half-way stops the updates and says so.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "autograd/ops.h"
#include "nn/gpt.h"
#include "nn/init.h"
#include "optim/adamw.h"
#include "optim/adamw_in_backward.h"
#include "optim/clip.h"

using namespace gpt;

namespace {

GPTConfig tiny_config() {
    GPTConfig c;
    c.vocab_size = 37;
    c.block_size = 8;
    c.n_layer = 2;
    c.n_head = 2;
    c.n_embd = 16;
    c.dropout = 0.1f;
    return c;
}

struct Run {
    GPT model{tiny_config()};
    NamedTensors parameters;
    AdamW optimizer;
    Generator dropout{7};
    Run() : parameters(init(model)), optimizer(parameters, options()) {}
    static NamedTensors init(GPT& m) {
        Generator g(1337);
        init_gpt2(m, g);
        m.train();
        return m.named_parameters();
    }
    static AdamWOptions options() {
        AdamWOptions o;
        o.lr = 3e-3f;
        o.weight_decay = 0.1f;
        return o;
    }
    Tensor loss(int64_t step) {
        std::vector<int32_t> ids(2 * 8), targets(2 * 8);
        for (size_t i = 0; i < ids.size(); ++i) {
            ids[i] = static_cast<int32_t>((i * 7 + static_cast<size_t>(step) * 3) % 37);
            targets[i] = static_cast<int32_t>((i * 5 + 1 + static_cast<size_t>(step)) % 37);
        }
        return GPT::loss(model.forward(ids, 2, 8, dropout), targets);
    }
};

bool same_bits(const float* a, const float* b, size_t n) { return std::memcmp(a, b, n * sizeof(float)) == 0; }

// An identity op whose backward writes +Inf into its input's gradient: a non-finite gradient from a
// finite loss.
Tensor poison(const Tensor& x) {
    Tensor out = x.clone();
    if (needs_grad({&x}))
        record(out, "poison", {x}, [](const Grads& g) { g.input(0)[0] += std::numeric_limits<float>::infinity(); });
    return out;
}

}  // namespace

TEST_CASE("optimizer in backward: the same weights, moments and gradient norm as backward then AdamW::step") {
    Run plain, fused;
    for (int64_t step = 0; step < 3; ++step) {
        const bool measure = step == 1;
        plain.optimizer.zero_grad();
        Tensor plain_loss = plain.loss(step);
        plain_loss.backward();
        const double plain_norm = grad_norm(plain.parameters);
        std::vector<double> plain_norms;
        for (const auto& [name, t] : plain.parameters)
            plain_norms.push_back(std::sqrt(gradient_sum_of_squares(t.grad(), t.numel())));
        std::vector<AdamWUpdateNorm> plain_updates;
        if (measure) plain.optimizer.step(plain_updates);
        else plain.optimizer.step();

        Tensor fused_loss = fused.loss(step);
        CHECK(fused_loss.item() == plain_loss.item());
        AdamWInBackward in_backward(fused.optimizer, measure);
        fused_loss.backward();
        const AdamWInBackwardResult result = in_backward.finish();
        REQUIRE(result.taken);
        CHECK(result.updated == fused.parameters.size());
        CHECK(result.grad_norm == plain_norm);
        if (measure) {
            CHECK(result.grad_norms == plain_norms);
            REQUIRE(result.update_norms.size() == plain_updates.size());
            for (size_t k = 0; k < plain_updates.size(); ++k) {
                CHECK(result.update_norms[k].name == plain_updates[k].name);
                CHECK(result.update_norms[k].update_sq == plain_updates[k].update_sq);
            }
        }
        for (size_t k = 0; k < plain.parameters.size(); ++k) {
            const Tensor &a = plain.parameters[k].second, &b = fused.parameters[k].second;
            CHECK_MESSAGE(same_bits(a.data(), b.data(), static_cast<size_t>(a.numel())), plain.parameters[k].first);
            CHECK(b.grad() == nullptr);  // freed inside backward
            const std::vector<float>& m1 = plain.optimizer.first_moment(plain.parameters[k].first);
            const std::vector<float>& m2 = fused.optimizer.first_moment(plain.parameters[k].first);
            const std::vector<float>& v1 = plain.optimizer.second_moment(plain.parameters[k].first);
            const std::vector<float>& v2 = fused.optimizer.second_moment(plain.parameters[k].first);
            CHECK(same_bits(m1.data(), m2.data(), m1.size()));
            CHECK(same_bits(v1.data(), v2.data(), v1.size()));
        }
        CHECK(fused.optimizer.step_count() == plain.optimizer.step_count());
    }
}

TEST_CASE("optimizer in backward: a non-finite gradient stops the updates from that parameter on") {
    // backward reaches `late` (used last in forward) first, then `early` through the poison op.
    const Tensor early = Tensor::from_vector({2}, {1.0f, 2.0f}, true);
    const Tensor late = Tensor::from_vector({2}, {0.5f, -0.5f}, true);
    AdamW optimizer({{"early", early}, {"late", late}});
    const float early_before = early.data()[0], late_before = late.data()[0];
    Tensor loss = sum_all(mul(poison(early), late));
    REQUIRE(std::isfinite(loss.item()));
    AdamWInBackward in_backward(optimizer, false);
    loss.backward();
    const AdamWInBackwardResult result = in_backward.finish();
    CHECK_FALSE(result.taken);
    CHECK(result.bad_parameter == "early");
    CHECK(result.updated == 1);
    CHECK(late.data()[0] != late_before);    // updated before the bad gradient was seen
    CHECK(early.data()[0] == early_before);  // not updated
    CHECK(early.grad() == nullptr);          // every gradient is freed all the same
    CHECK(optimizer.step_count() == 0);      // the step is not counted
}

TEST_CASE("optimizer in backward: the hooks are removed afterwards; a plain backward keeps its gradients") {
    const Tensor w = Tensor::from_vector({2}, {1.0f, 2.0f}, true);
    AdamW optimizer({{"w", w}});
    {
        AdamWInBackward in_backward(optimizer, false);
        sum_all(mul(w, w)).backward();
        CHECK(in_backward.finish().taken);
    }
    sum_all(mul(w, w)).backward();
    REQUIRE(w.grad() != nullptr);
    CHECK(optimizer.step_count() == 1);
}
