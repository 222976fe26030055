#include "bench/attention_bench.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <stdexcept>
#include <vector>

#include "nn/init.h"
#include "nn/kv_cache.h"
#include "checkpoint/model_file.h"

namespace gpt::bench {

namespace {

// CPU seconds of the whole process (all threads). On a shared machine wall time measures the other
// load as much as this code; with one thread, CPU time is this code's own cost.
double cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

std::string value(const std::map<std::string, std::string>& args, const std::string& key, const std::string& fallback) {
    const auto it = args.find(key);
    return it == args.end() ? fallback : it->second;
}

struct Row {
    std::string name;
    GPTConfig config;
    double formula_floats;  // per token, all layers
};

GPTConfig shape(int64_t n_layer, int64_t n_head, int64_t head_dim, int64_t kv_heads) {
    GPTConfig c;
    c.vocab_size = 1;
    c.block_size = 4;  // KVCache allocates block_size rows; bytes_per_token divides by it
    c.n_layer = n_layer;
    c.n_head = n_head;
    c.n_kv_head = kv_heads;
    c.n_embd = n_head * head_dim;
    c.pos_encoding = "rope";
    return c;
}

GPTConfig latent(GPTConfig c, int64_t d_c, int64_t d_R) {
    c.attention = "mla";
    c.n_kv_head = 0;
    c.kv_latent_dim = d_c;
    c.rope_head_dim = d_R;
    return c;
}

// One model's rows: 2·n_kv·d_h·l floats for (G/M)QA and MHA, (d_c + d_R)·l for MLA.
void print_rows(const char* model, int64_t L, int64_t H, int64_t d_h, int64_t d_c, int64_t d_R,
                const std::vector<int64_t>& groups, double bytes_per_value) {
    std::vector<Row> rows;
    for (int64_t g : groups)
        rows.push_back({g == H ? "MHA" : g == 1 ? "MQA" : "GQA-" + std::to_string(g), shape(L, H, d_h, g),
                        2.0 * double(g * d_h * L)});
    rows.push_back({"MLA", latent(shape(L, H, d_h, 0), d_c, d_R), double((d_c + d_R) * L)});
    const double mha = rows.front().formula_floats;
    for (const Row& r : rows) {
        const KVCache cache(r.config);  // float32 buffers; the measured bytes are rescaled to the format
        const double measured = double(cache.bytes_per_token()) / 4.0 * bytes_per_value;
        std::printf("| %s | %s | %.0f | %.0f | %.0f | %.1f KiB | %.1f× |\n", model, r.name.c_str(), r.formula_floats,
                    r.formula_floats * bytes_per_value, measured, measured / 1024.0, mha / r.formula_floats);
    }
}

int kv_table() {
    std::printf("| model | attention | values/token | bytes/token (formula) | bytes/token (KVCache) | | vs MHA |\n");
    std::printf("|---|---|---:|---:|---:|---:|---:|\n");
    // small: 6 layers, 6 heads of 64 (C 384), fp32; MLA with d_c = 4·d_h, d_R = d_h/2 as DeepSeek-V2.
    print_rows("small (fp32)", 6, 6, 64, 256, 32, {6, 2, 1}, 4.0);
    // DeepSeek-V3: 61 layers, 128 heads of 128, d_c 512, d_R 64, bf16.
    print_rows("DeepSeek-V3 (bf16)", 61, 128, 128, 512, 64, {128, 16, 2, 1}, 2.0);
    return 0;
}

int decode(const std::map<std::string, std::string>& args) {
    const std::string path = value(args, "checkpoint", "");
    if (path.empty()) throw std::invalid_argument("decode needs --checkpoint FILE");
    LoadedCheckpoint loaded = load_checkpoint(path);
    const int64_t context = std::stoll(value(args, "context", std::to_string(loaded.model_config.block_size)));
    const int64_t steps = std::stoll(value(args, "steps", "32"));
    if (steps < 1 || steps >= context) throw std::invalid_argument("decode: need 1 <= steps < context");
    if (context > loaded.model_config.block_size) {
        // Past the trained block_size: the same shape with a longer window and random weights (the time
        // of a step does not depend on the weights' values).
        GPTConfig longer = loaded.model_config;
        longer.block_size = context;
        loaded.model = std::make_unique<GPT>(longer);
        Generator generator(1);
        init_gpt2(*loaded.model, generator);
    }
    GPT& model = *loaded.model;
    model.eval();
    std::vector<int32_t> prompt(static_cast<size_t>(context - steps));
    for (size_t i = 0; i < prompt.size(); ++i) prompt[i] = static_cast<int32_t>(i % 7);
    KVCache cache(model.config());
    forward_tokens(model, cache, prompt);
    std::vector<double> seconds;
    for (int64_t s = 0; s < steps; ++s) {
        const double start = cpu_seconds();
        forward_step(model, cache, static_cast<int32_t>(s % 7));
        seconds.push_back(cpu_seconds() - start);
    }
    double total = 0.0;
    for (double t : seconds) total += t;
    std::printf("{\"mode\": \"decode\", \"context\": %lld, \"steps\": %lld, \"tokens_per_s\": %.1f, "
                "\"best_tokens_per_s\": %.1f, \"kv_bytes_per_token\": %lld}\n",
                static_cast<long long>(context), static_cast<long long>(steps), double(steps) / total,
                1.0 / *std::min_element(seconds.begin(), seconds.end()), static_cast<long long>(cache.bytes_per_token()));
    return 0;
}

// Forward + backward of the checkpoint's model (its config, fresh GPT-2 init) on B random sequences of
// block_size tokens, N times; the fastest and the median step (a shared machine's other load only ever
// adds time, so the fastest is the closest to the op's own cost).
int train_time(const std::map<std::string, std::string>& args) {
    const LoadedCheckpoint loaded = load_checkpoint(value(args, "checkpoint", ""));
    const GPTConfig& config = loaded.model_config;
    GPT model(config);
    Generator generator(3);
    init_gpt2(model, generator);
    const int64_t B = std::stoll(value(args, "batch", "4")), T = config.block_size;
    const int64_t steps = std::stoll(value(args, "steps", "15"));
    std::vector<int32_t> ids(static_cast<size_t>(B * T)), targets(ids.size());
    for (size_t i = 0; i < ids.size(); ++i) {
        ids[i] = static_cast<int32_t>(generator.below(static_cast<uint64_t>(config.vocab_size)));
        targets[i] = static_cast<int32_t>(generator.below(static_cast<uint64_t>(config.vocab_size)));
    }
    std::vector<double> ms;
    for (int64_t s = 0; s < steps + 2; ++s) {  // 2 warm-up steps fill the storage cache
        const double start = cpu_seconds();
        for (auto& [name, t] : model.named_parameters()) t.zero_grad();
        Tensor loss = GPT::loss(model.forward(ids, B, T, generator), targets);
        loss.backward();
        if (s >= 2) ms.push_back(1e3 * (cpu_seconds() - start));
    }
    std::sort(ms.begin(), ms.end());
    std::printf("{\"mode\": \"train_time\", \"steps\": %lld, \"best_ms\": %.2f, \"median_ms\": %.2f}\n",
                static_cast<long long>(steps), ms.front(), ms[ms.size() / 2]);
    return 0;
}

}  // namespace

int run_attention_bench(const std::string& mode, const std::map<std::string, std::string>& args) {
    if (mode == "kv_table") return kv_table();
    if (mode == "decode") return decode(args);
    if (mode == "train_time") return train_time(args);
    throw std::invalid_argument("unknown mode " + mode);
}

}  // namespace gpt::bench
