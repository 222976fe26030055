#include "bench/decode_bench.h"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>
#include <stdexcept>
#include <vector>

#include "autograd/kernels/kernels.h"
#include "checkpoint/model_file.h"
#include "nn/init.h"
#include "nn/kv_cache.h"

namespace gpt::bench {

namespace {

double cpu_seconds() {  // the whole process, all threads
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double wall_seconds() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

long long number(const std::map<std::string, std::string>& args, const std::string& key, long long fallback) {
    const auto it = args.find(key);
    return it == args.end() ? fallback : std::stoll(it->second);
}

std::unique_ptr<GPT> gpt2_shaped_model() {
    GPTConfig c;
    c.n_layer = 12;
    c.n_head = 12;
    c.n_embd = 768;
    c.vocab_size = 50257;
    c.block_size = 1024;
    auto model = std::make_unique<GPT>(c);
    Generator generator(1);
    init_gpt2(*model, generator);
    return model;
}

struct Timing {
    double wall_tokens_per_s, cpu_tokens_per_s;
};

Timing time_decoding(const GPT& model, int64_t context, int64_t steps) {
    std::vector<int32_t> prompt(static_cast<size_t>(context - steps));
    for (size_t i = 0; i < prompt.size(); ++i) prompt[i] = static_cast<int32_t>(i % 7);
    KVCache cache(model.config());
    forward_tokens(model, cache, prompt);
    const double wall = wall_seconds(), cpu = cpu_seconds();
    for (int64_t s = 0; s < steps; ++s) forward_step(model, cache, static_cast<int32_t>(s % 7));
    return {double(steps) / (wall_seconds() - wall), double(steps) / (cpu_seconds() - cpu)};
}

}  // namespace

int run_decode_weights(const std::map<std::string, std::string>& args) {
    const auto path = args.find("checkpoint");
    std::unique_ptr<GPT> model;
    if (path != args.end()) {
        LoadedCheckpoint loaded = load_checkpoint(path->second);
        model = std::move(loaded.model);
    } else {
        model = gpt2_shaped_model();
    }
    model->eval();
    const int64_t context = number(args, "context", 128), steps = number(args, "steps", 64);
    const int64_t repeats = number(args, "repeats", 5);
    if (steps < 1 || steps >= context || context > model->config().block_size)
        throw std::invalid_argument("decode_weights: need 1 <= steps < context <= block_size");
    if (repeats < 1) throw std::invalid_argument("decode_weights: need --repeats >= 1");

    std::vector<double> wall[2], cpu[2];  // [0] float32, [1] bf16
    for (int64_t r = 0; r < 2 * repeats; ++r) {
        const int f = (r % 4 == 0 || r % 4 == 3) ? 0 : 1;  // float32, bf16, bf16, float32, …
        const WeightFormat format = f ? WeightFormat::bf16 : WeightFormat::float32;
        model->set_inference_weights(format);
        const Timing t = time_decoding(*model, context, steps);
        wall[f].push_back(t.wall_tokens_per_s);
        cpu[f].push_back(t.cpu_tokens_per_s);
        std::printf("{\"mode\": \"decode_weights\", \"run\": %lld, \"weights\": \"%s\", \"wall_tokens_per_s\": %.2f, "
                    "\"cpu_tokens_per_s\": %.2f}\n",
                    static_cast<long long>(r), weight_format_name(format), t.wall_tokens_per_s, t.cpu_tokens_per_s);
        std::fflush(stdout);
    }
    const double w0 = median(wall[0]), w1 = median(wall[1]), c0 = median(cpu[0]), c1 = median(cpu[1]);
    std::printf("{\"mode\": \"decode_weights_summary\", \"parameters\": %lld, \"context\": %lld, \"steps\": %lld, "
                "\"repeats\": %lld, \"threads\": %d, \"kernels\": \"%s\", \"float32_wall_tokens_per_s\": %.2f, "
                "\"bf16_wall_tokens_per_s\": %.2f, \"wall_ratio\": %.3f, \"float32_cpu_tokens_per_s\": %.2f, "
                "\"bf16_cpu_tokens_per_s\": %.2f, \"cpu_ratio\": %.3f}\n",
                static_cast<long long>(model->parameter_count()), static_cast<long long>(context),
                static_cast<long long>(steps), static_cast<long long>(repeats), omp_get_max_threads(),
                kernel_path_name(), w0, w1, w1 / w0, c0, c1, c1 / c0);
    return 0;
}

}  // namespace gpt::bench
