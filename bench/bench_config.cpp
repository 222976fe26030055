#include "bench/bench_config.h"

#include <fstream>
#include <iterator>
#include <stdexcept>

namespace gpt::bench {

BenchShape bench_shape(const std::string& name) {
    if (name == "baby") return {"baby", 4, 4, 128, 64, 12, 0.0f};
    if (name == "small") return {"small", 6, 6, 384, 256, 16, 0.2f};
    // GPT-2 124M as llm.c's CPU fine-tuning headline run: 12 layers, 12 heads, C 768, vocab 50304, T 64, B 4.
    if (name == "gpt2") return {"gpt2", 12, 12, 768, 64, 4, 0.0f, 50304};
    std::string message = "unknown config ";  // appended, not +: GCC 12 -Wrestrict false positive
    message.append(name).append(" (baby | small | gpt2)");
    throw std::invalid_argument(message);
}

std::vector<int32_t> read_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("gpt_bench: cannot read data file " + path);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::vector<int32_t> tokens(text.size());
    for (size_t i = 0; i < text.size(); ++i) tokens[i] = static_cast<unsigned char>(text[i]);
    return tokens;
}

void make_batch(const std::vector<int32_t>& data, int64_t step, int64_t B, int64_t T, std::vector<int32_t>& inputs,
                std::vector<int32_t>& targets) {
    const int64_t span = static_cast<int64_t>(data.size()) - T - 1;
    if (span <= 0) throw std::invalid_argument("gpt_bench: data file shorter than block_size + 1 bytes");
    inputs.resize(static_cast<size_t>(B * T));
    targets.resize(static_cast<size_t>(B * T));
    for (int64_t b = 0; b < B; ++b) {
        const int64_t start = ((step * B + b) * 104729) % span;
        for (int64_t t = 0; t < T; ++t) {
            inputs[static_cast<size_t>(b * T + t)] = data[static_cast<size_t>(start + t)];
            targets[static_cast<size_t>(b * T + t)] = data[static_cast<size_t>(start + t + 1)];
        }
    }
}

double flops_per_token(const BenchShape& s, int64_t parameters_without_wpe) {
    return 6.0 * static_cast<double>(parameters_without_wpe) +
           12.0 * static_cast<double>(s.n_layer * s.n_embd * s.block_size);
}

}  // namespace gpt::bench
