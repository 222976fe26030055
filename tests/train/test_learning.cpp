// Every model option learns: each position encoding (learned, sinusoidal, rotary) and each attention
// (MHA, GQA, MQA, MLA with and without its rotary part) trains a small character-level GPT for a fixed
// number of steps on a fixed text, and its validation loss must end clearly below the unigram loss
// (what a model that ignores the context reaches) and near the learned-position MHA baseline.
// The parity tests check that a forward is the right function; this checks that it can learn: before
// the √C scaling of the token embeddings, sinusoidal positions stayed at the unigram loss.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "autograd/tensor.h"
#include "common/random.h"
#include "nn/gpt.h"
#include "nn/init.h"
#include "optim/adamw.h"

using namespace gpt;

namespace {

// The text of tests/train/tiny_corpus.h (11 words, sentences ending at pseudo-random places), in memory.
std::string word_text(uint64_t seed, int words) {
    const char* vocabulary[] = {"the", "quick", "brown", "fox", "jumps", "over", "a", "lazy", "dog", "and", "runs"};
    std::string text;
    uint64_t x = seed;
    for (int i = 0; i < words; ++i) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        text += vocabulary[(x >> 33) % 11];
        text += (x >> 20) % 9 == 0 ? ".\n" : " ";
    }
    return text;
}

struct Data {
    std::vector<int32_t> train, val;
    int64_t vocab = 0;
    double unigram_loss = 0.0;  // entropy of the training text's character frequencies, in nats
};

Data make_data() {
    const std::string text = word_text(7, 3000);
    std::map<char, int32_t> ids;
    for (char c : text) ids.emplace(c, 0);
    int32_t next = 0;
    for (auto& [c, id] : ids) id = next++;
    Data d;
    d.vocab = next;
    const size_t split = text.size() * 9 / 10;
    std::vector<double> counts(size_t(d.vocab), 0.0);
    for (size_t i = 0; i < text.size(); ++i) {
        const int32_t id = ids[text[i]];
        (i < split ? d.train : d.val).push_back(id);
        if (i < split) counts[size_t(id)] += 1.0;
    }
    for (double n : counts)
        if (n > 0) d.unigram_loss -= n / double(d.train.size()) * std::log(n / double(d.train.size()));
    return d;
}

constexpr int64_t kBlock = 32, kBatch = 8, kSteps = 150;

// Inputs and next-token targets of B windows at the given starts.
void windows(const std::vector<int32_t>& tokens, const std::vector<size_t>& starts, std::vector<int32_t>& x,
             std::vector<int32_t>& y) {
    x.clear();
    y.clear();
    for (size_t s : starts)
        for (int64_t t = 0; t < kBlock; ++t) {
            x.push_back(tokens[s + size_t(t)]);
            y.push_back(tokens[s + size_t(t) + 1]);
        }
}

// Validation loss after kSteps AdamW steps (constant lr after a short warm-up), seed fixed.
double trained_val_loss(GPTConfig config, const Data& data) {
    config.vocab_size = data.vocab;
    config.n_layer = 2;
    config.n_embd = 32;
    config.n_head = 4;
    config.block_size = kBlock;
    GPT model(config);
    Generator generator(1337);
    init_gpt2(model, generator);
    model.train();
    AdamWOptions options;
    options.lr = 1e-2f;
    options.beta2 = 0.99f;
    options.weight_decay = 0.0f;
    AdamW optimizer(model.named_parameters(), options);
    Generator batches(42);
    std::vector<int32_t> x, y;
    for (int64_t step = 0; step < kSteps; ++step) {
        std::vector<size_t> starts;
        for (int64_t b = 0; b < kBatch; ++b) starts.push_back(size_t(batches.below(data.train.size() - kBlock - 1)));
        windows(data.train, starts, x, y);
        optimizer.zero_grad();
        Tensor loss = GPT::loss(model.forward(x, kBatch, kBlock, generator), y);
        loss.backward();
        optimizer.set_lr(step < 10 ? 1e-2f * float(step + 1) / 11.0f : 1e-2f);
        optimizer.step();
    }
    model.eval();
    NoGradGuard no_grad;
    double total = 0.0;
    int count = 0;
    for (size_t s = 0; s + kBlock + 1 < data.val.size(); s += size_t(kBlock) * kBatch) {
        std::vector<size_t> starts;
        for (int64_t b = 0; b < kBatch && s + size_t(b * kBlock) + kBlock + 1 < data.val.size(); ++b)
            starts.push_back(s + size_t(b * kBlock));
        windows(data.val, starts, x, y);
        total += GPT::loss(model.forward(x, int64_t(starts.size()), kBlock, generator), y).item();
        ++count;
    }
    return total / count;
}

}  // namespace

TEST_CASE("every position encoding and every attention learns: below the unigram loss, near learned MHA") {
    const Data data = make_data();
    struct Variant {
        const char* name;
        GPTConfig config;
    };
    std::vector<Variant> variants;
    const auto add = [&](const char* name, const char* pos, const char* attention, int64_t kv_heads) {
        GPTConfig c;
        c.pos_encoding = pos;
        c.attention = attention;
        c.n_kv_head = kv_heads;
        if (std::string(attention) == "mla") c.kv_latent_dim = 16;
        variants.push_back({name, c});
    };
    add("learned MHA (baseline)", "learned", "mha", 0);
    add("sinusoidal MHA", "sinusoidal", "mha", 0);
    add("rope MHA", "rope", "mha", 0);
    add("learned GQA (2 kv heads)", "learned", "mha", 2);
    add("learned MQA (1 kv head)", "learned", "mha", 1);
    add("learned MLA", "learned", "mla", 0);
    add("rope MLA", "rope", "mla", 0);
    add("sinusoidal GQA", "sinusoidal", "mha", 2);

    // Margins: "clearly below" the unigram loss is 0.5 nats below it (every variant ends 2.2-2.4 below;
    // a model that cannot see its tokens stays within 0.01 of it); "near" the baseline is within 0.3 nats
    // (the variants end 0.07 below to 0.15 above it; without the √C scaling sinusoidal ended 2.3 above).
    constexpr double kBelowUnigram = 0.5, kNearBaseline = 0.3;
    double baseline = 0.0;
    std::string table = "unigram loss " + std::to_string(data.unigram_loss) + " nats; " + std::to_string(kSteps) +
                        " steps, B " + std::to_string(kBatch) + ", T " + std::to_string(kBlock) + "\n";
    for (const Variant& v : variants) {
        const double loss = trained_val_loss(v.config, data);
        if (baseline == 0.0) baseline = loss;
        char line[160];
        std::snprintf(line, sizeof line, "  %-26s val loss %.4f (unigram - %.3f, baseline + %.3f)\n", v.name, loss,
                      data.unigram_loss - loss, loss - baseline);
        table += line;
        CHECK_MESSAGE(loss < data.unigram_loss - kBelowUnigram, std::string(v.name), ": val loss ", loss, " is not clearly below the unigram loss ",
                      data.unigram_loss);
        CHECK_MESSAGE(loss < baseline + kNearBaseline, std::string(v.name), ": val loss ", loss, " is more than ", kNearBaseline,
                      " above learned MHA's ", baseline);
    }
    MESSAGE(table);
}

// Issue 31's options learn too, alone and together: each ends clearly below the unigram loss, with the
// same margin as above.
TEST_CASE("rmsnorm, relu2, swiglu, qk_norm, an untied head and all of them with rope learn") {
    const Data data = make_data();
    struct Variant {
        const char* name;
        GPTConfig config;
    };
    std::vector<Variant> variants;
    const auto add = [&](const char* name, const char* norm, const char* mlp, bool qk_norm, bool tie, const char* pos) {
        GPTConfig c;
        c.norm = norm;
        c.mlp = mlp;
        c.qk_norm = qk_norm;
        c.tie_embeddings = tie;
        c.pos_encoding = pos;
        variants.push_back({name, c});
    };
    add("rmsnorm", "rmsnorm", "gelu", false, true, "learned");
    add("relu2", "layernorm", "relu2", false, true, "learned");
    add("swiglu", "layernorm", "swiglu", false, true, "learned");
    add("qk_norm", "layernorm", "gelu", true, true, "learned");
    add("untied head", "layernorm", "gelu", false, false, "learned");
    add("rope+rmsnorm+qk_norm+relu2+untied", "rmsnorm", "relu2", true, false, "rope");
    add("rope+rmsnorm+qk_norm+swiglu", "rmsnorm", "swiglu", true, true, "rope");
    constexpr double kBelowUnigram = 0.5;
    std::string table = "unigram loss " + std::to_string(data.unigram_loss) + " nats\n";
    for (const Variant& v : variants) {
        const double loss = trained_val_loss(v.config, data);
        char line[160];
        std::snprintf(line, sizeof line, "  %-34s val loss %.4f (unigram - %.3f)\n", v.name, loss, data.unigram_loss - loss);
        table += line;
        CHECK_MESSAGE(loss < data.unigram_loss - kBelowUnigram, std::string(v.name), ": val loss ", loss,
                      " is not clearly below the unigram loss ", data.unigram_loss);
    }
    MESSAGE(table);
}
