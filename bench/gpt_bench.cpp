// gpt_bench: the project's side of bench/run.py (train, sgemm: one JSON line each on stdout), and the
// attention study's modes (kv_table, decode, train_time):
//
//   gpt_bench train --config baby|small|gpt2 --threads N --steps S --warmup W [--data FILE (default /usr/share/games/fortunes/computers)] [--profile]
//     trains the GPT of that shape with AdamW (as `gpt train` does: zero grads, forward, loss, backward,
//     clip at 1.0, step) for W + S steps and reports the median step time of the last S, and its
//     forward / backward / optimizer parts. --profile prints the per-op table on stderr.
//     --optimizer_in_backward: no clipping, AdamW inside backward (optim/adamw_in_backward.h; the
//     optimizer's time is then part of backward's).
//   gpt_bench sgemm --threads N [--m M --k K --n N] [--reps R]
//     the GFLOP/s of one plain cblas_sgemm C[M,N] = A[M,K]·B[K,N], best of R, for the machine's
//     matrix ceiling under the same OpenBLAS and thread count.
//   gpt_bench peak --threads N
//     the fp32 FMA ceiling of N threads with 256- and 512-bit vectors (bench/peak_flops.h).
//   gpt_bench kv_table | decode --checkpoint FILE --context L [--steps N]: see bench/attention_bench.h.
//   gpt_bench decode_weights [--checkpoint FILE] [--context L] [--steps N] [--repeats R]: float32 against
//     bf16 weights in cached decoding (GPT-2 124M's shape by default): see bench/decode_bench.h.
#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "autograd/kernels/kernels.h"
#include "common/threads.h"
#include "autograd/ops/gemm.h"
#include "autograd/profile.h"
#include "bench/attention_bench.h"
#include "bench/bench_config.h"
#include "bench/decode_bench.h"
#include "bench/peak_flops.h"
#include "nn/gpt.h"
#include "nn/init.h"
#include "optim/adamw.h"
#include "optim/adamw_in_backward.h"
#include "optim/clip.h"

// bench/omp_shim.c (LD_PRELOAD, for bench/amdahl.py) defines this to mark the measured steps; without
// the shim the weak reference stays null and nothing is called.
extern "C" __attribute__((weak)) void gpt_omp_shim_step(int begin);

namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

// CPU time of the whole process (all threads): on a loaded machine a 1-thread run's CPU time is close
// to what its wall time would be on an idle one.
double cpu_ms() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) * 1e-6;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n == 0 ? 0.0 : (n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]));
}

struct Args {
    std::map<std::string, std::string> values;
    std::string get(const std::string& key, const std::string& fallback) const {
        auto it = values.find(key);
        return it == values.end() ? fallback : it->second;
    }
    long long number(const std::string& key, long long fallback) const {
        auto it = values.find(key);
        return it == values.end() ? fallback : std::stoll(it->second);
    }
};

Args parse(int argc, char** argv) {
    Args args;
    for (int i = 2; i < argc; ++i) {
        std::string key = argv[i];
        if (key.rfind("--", 0) != 0) throw std::invalid_argument(std::string("unexpected argument ").append(key));
        key.erase(0, 2);
        if (key == "profile" || key == "optimizer_in_backward") {
            args.values[key].assign(1, '1');  // (not = "1": GCC 12 -Wrestrict false positive)
        } else {
            if (i + 1 >= argc) throw std::invalid_argument(std::string("--").append(key).append(" needs a value"));
            args.values[key] = argv[++i];
        }
    }
    return args;
}

int run_sgemm(const Args& args) {
    const int64_t M = args.number("m", 768), K = args.number("k", 128), N = args.number("n", 512);
    const int reps = static_cast<int>(args.number("reps", 50));
    std::vector<float> a(static_cast<size_t>(M * K)), b(static_cast<size_t>(K * N)), c(static_cast<size_t>(M * N)),
        c_ref(static_cast<size_t>(M * N));
    for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<float>((i * 7919) % 1000) / 1000.0f - 0.5f;
    for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<float>((i * 104729) % 1000) / 1000.0f - 0.5f;
    auto best_gflops = [&](auto&& product, std::vector<float>& out) {
        double best = 1e30;
        for (int r = 0; r < reps + 3; ++r) {
            const auto t = Clock::now();
            product(out.data());
            if (r >= 3) best = std::min(best, ms_since(t));
        }
        return 2.0 * double(M) * double(N) * double(K) / (best * 1e-3) / 1e9;
    };
    const double openblas = best_gflops([&](float* out) {
        gpt::sgemm_openblas(false, false, M, N, K, a.data(), K, b.data(), N, 0.0f, out, N);
    }, c_ref);
    const double own = best_gflops([&](float* out) {
        gpt::sgemm(false, false, M, N, K, a.data(), K, b.data(), N, 0.0f, out, N);
    }, c);
    double max_diff = 0.0;  // the own kernel checked against OpenBLAS on this shape
    for (size_t i = 0; i < c.size(); ++i) max_diff = std::max(max_diff, double(std::abs(c[i] - c_ref[i])));
    std::printf("{\"side\": \"sgemm\", \"threads\": %d, \"m\": %lld, \"k\": %lld, \"n\": %lld, \"gflops\": %.1f, "
                "\"own_gflops\": %.1f, \"own_kernel\": %s, \"max_abs_diff\": %.3g, \"kernels\": \"%s\"}\n",
                omp_get_max_threads(), (long long)M, (long long)K, (long long)N, openblas, own,
                gpt::sgemm_is_own_kernel() ? "true" : "false", max_diff, gpt::kernel_path_name());
    return 0;
}

int run_train_bench(const Args& args) {
    using namespace gpt;
    const bench::BenchShape shape = bench::bench_shape(args.get("config", "baby"));
    const int64_t steps = args.number("steps", 30), warmup = args.number("warmup", 3);
    const bool profiling = args.values.count("profile") > 0;
    const bool in_backward = args.values.count("optimizer_in_backward") > 0;
    const std::vector<int32_t> data = bench::read_bytes(args.get("data", "/usr/share/games/fortunes/computers"));

    GPTConfig config;
    config.vocab_size = shape.vocab_size;
    config.block_size = shape.block_size;
    config.n_layer = shape.n_layer;
    config.n_head = shape.n_head;
    config.n_embd = shape.n_embd;
    config.dropout = shape.dropout;
    GPT model(config);
    Generator init(1337);
    init_gpt2(model, init);
    model.train();
    const NamedTensors parameters = model.named_parameters();
    AdamWOptions options;
    options.lr = 1e-3f;
    options.beta2 = 0.99f;
    options.weight_decay = 0.1f;
    AdamW optimizer(parameters, options);
    Generator dropout_generator(1338);

    const int64_t B = shape.batch_size, T = shape.block_size;
    std::vector<int32_t> inputs, targets;
    std::vector<double> step_ms, forward_ms, backward_ms, optimizer_ms, step_cpu_ms;
    double first_loss = 0.0, last_loss = 0.0;
    for (int64_t step = 0; step < warmup + steps; ++step) {
        if (step == warmup && profiling) {
            profile::reset();
            profile::set_enabled(true);
        }
        bench::make_batch(data, step, B, T, inputs, targets);
        const bool measured = step >= warmup;
        if (measured && gpt_omp_shim_step) gpt_omp_shim_step(1);
        const auto t0 = Clock::now();
        const double c0 = cpu_ms();
        optimizer.zero_grad();
        Tensor loss = GPT::loss(model.forward(inputs, B, T, dropout_generator), targets);
        const double t_forward = ms_since(t0);
        if (in_backward) {
            AdamWInBackward fused(optimizer, false);
            loss.backward();
            if (!fused.finish().taken) throw std::runtime_error("a non-finite gradient in step " + std::to_string(step));
        } else {
            loss.backward();
        }
        const double t_backward = ms_since(t0);
        if (!in_backward) {
            profile::Scope scope("clip+adamw", "optimizer");  // as train_step: the clip inside AdamW's pass
            optimizer.step(clip_scale(grad_norm(parameters), 1.0));
        }
        const double t_step = ms_since(t0);
        const double c_step = cpu_ms() - c0;
        if (measured && gpt_omp_shim_step) gpt_omp_shim_step(0);
        if (step == 0) first_loss = loss.item();
        last_loss = loss.item();
        if (measured) {
            step_ms.push_back(t_step);
            step_cpu_ms.push_back(c_step);
            forward_ms.push_back(t_forward);
            backward_ms.push_back(t_backward - t_forward);
            optimizer_ms.push_back(t_step - t_backward);
        }
    }
    if (profiling) std::fprintf(stderr, "%s", profile::table(steps).c_str());

    int64_t without_wpe = 0;
    for (const auto& [name, tensor] : parameters)
        if (name != "wpe.weight") without_wpe += tensor.numel();
    std::printf("{\"side\": \"project\", \"config\": \"%s\", \"threads\": %d, \"steps\": %lld, \"ms\": %.3f, \"cpu_ms\": %.3f, "
                "\"forward_ms\": %.3f, \"backward_ms\": %.3f, \"optimizer_ms\": %.3f, \"tokens_per_step\": %lld, "
                "\"flops_per_token\": %.0f, \"parameters\": %lld, \"first_loss\": %.4f, \"last_loss\": %.4f, \"last_loss_exact\": %.9g, "
                "\"kernels\": \"%s\", \"gemm\": \"%s\", \"optimizer_in_backward\": %s}\n",
                shape.name.c_str(), omp_get_max_threads(), (long long)steps, median(step_ms), median(step_cpu_ms), median(forward_ms),
                median(backward_ms), median(optimizer_ms), (long long)(B * T),
                bench::flops_per_token(shape, without_wpe), (long long)model.parameter_count(), first_loss, last_loss, last_loss,
                kernel_path_name(), sgemm_is_own_kernel() ? "own" : "openblas", in_backward ? "true" : "false");
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        const std::string mode = argc > 1 ? argv[1] : "";
        const Args args = parse(argc, argv);
        omp_set_num_threads(static_cast<int>(args.number("threads", 1)));
        gpt::flush_denormals();  // as gpt's configure_threads does
        if (mode == "train") return run_train_bench(args);
        if (mode == "sgemm") return run_sgemm(args);
        if (mode == "peak") return gpt::bench::run_peak(static_cast<int>(args.number("threads", 1)));
        if (mode == "kv_table" || mode == "decode" || mode == "train_time") return gpt::bench::run_attention_bench(mode, args.values);
        if (mode == "decode_weights") return gpt::bench::run_decode_weights(args.values);
        std::fprintf(stderr, "usage: gpt_bench train|sgemm|peak|kv_table|decode|train_time|decode_weights [--config baby|small|gpt2] [--threads N] [--steps S] "
                             "[--warmup W] [--profile]\n");
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "gpt_bench: %s\n", e.what());
        return 1;
    }
}
