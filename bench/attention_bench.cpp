#include "bench/attention_bench.h"

#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <vector>

#include "nn/kv_cache.h"
#include "train/checkpoint.h"

namespace gpt::bench {

namespace {

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
    const LoadedCheckpoint loaded = load_checkpoint(path);
    GPT& model = *loaded.model;
    model.eval();
    const int64_t context = std::stoll(value(args, "context", std::to_string(model.config().block_size)));
    const int64_t steps = std::stoll(value(args, "steps", "32"));
    if (context > model.config().block_size || steps < 1 || steps >= context)
        throw std::invalid_argument("decode: need 1 <= steps < context <= block_size " +
                                    std::to_string(model.config().block_size));
    std::vector<int32_t> prompt(static_cast<size_t>(context - steps));
    for (size_t i = 0; i < prompt.size(); ++i) prompt[i] = static_cast<int32_t>(i % 7);
    KVCache cache(model.config());
    forward_tokens(model, cache, prompt);
    const auto start = std::chrono::steady_clock::now();
    for (int64_t s = 0; s < steps; ++s) forward_step(model, cache, static_cast<int32_t>(s % 7));
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("{\"mode\": \"decode\", \"context\": %lld, \"steps\": %lld, \"tokens_per_s\": %.1f, "
                "\"kv_bytes_per_token\": %lld}\n",
                static_cast<long long>(context), static_cast<long long>(steps), double(steps) / seconds,
                static_cast<long long>(cache.bytes_per_token()));
    return 0;
}

}  // namespace

int run_attention_bench(const std::string& mode, const std::map<std::string, std::string>& args) {
    if (mode == "kv_table") return kv_table();
    if (mode == "decode") return decode(args);
    throw std::invalid_argument("unknown mode " + mode);
}

}  // namespace gpt::bench
