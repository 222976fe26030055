#include "train/memory_estimate.h"

#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace gpt {

namespace {

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

std::string gib(double bytes) {
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, bytes >= 0.01 * kGiB ? "%.2f GiB" : "%.4f GiB", bytes / kGiB);
    return buffer;
}

// One number from a cgroup v2 file ("max" or unreadable: -1).
double read_cgroup_value(const std::string& path) {
    std::ifstream in(path);
    std::string word;
    if (!(in >> word) || word == "max") return -1.0;
    try {
        return std::stod(word);
    } catch (const std::exception&) {
        return -1.0;
    }
}

}  // namespace

namespace {

// The attention's projections (nn/attention.h, nn/latent_attention.h), c_proj included.
int64_t attention_parameters(const GPTConfig& c) {
    const int64_t C = c.n_embd, hd = c.head_dim(), bias = c.bias ? 1 : 0;
    auto linear = [bias](int64_t in, int64_t out, bool with_bias = true) { return in * out + (with_bias ? bias * out : 0); };
    const int64_t proj = linear(C, C);
    if (!c.mla()) return linear(C, (c.n_head + 2 * c.kv_heads()) * hd) + proj;
    const int64_t H = c.n_head, d_c = c.kv_latent_dim, d_cq = c.q_latent_dim, d_R = c.mla_rope_dim();
    const int64_t q_in = d_cq > 0 ? d_cq : C;
    const int64_t query = d_cq > 0 ? linear(C, d_cq) + linear(d_cq, H * hd) : linear(C, H * hd);
    const int64_t kv = linear(C, d_c) + 2 * linear(d_c, H * hd, false);
    const int64_t rotary = d_R > 0 ? linear(q_in, H * d_R) + linear(C, d_R) : 0;
    return query + kv + rotary + proj;
}

}  // namespace

int64_t count_parameters(const GPTConfig& c) {
    const int64_t C = c.n_embd, bias = c.bias ? 1 : 0;
    const int64_t layer_norm = C * (1 + bias);
    const int64_t per_layer = layer_norm + attention_parameters(c) + layer_norm +
                              (C * 4 * C + bias * 4 * C) + (4 * C * C + bias * C);
    const int64_t positions = c.pos_encoding == "learned" ? c.block_size * C : 0;
    // The output head shares wte's weight (weight tying), so it adds nothing.
    return c.vocab_size * C + positions + c.n_layer * per_layer + layer_norm;
}

MemoryEstimate estimate_training_memory(const GPTConfig& c, int64_t batch_size, bool optimizer_in_backward) {
    const double B = static_cast<double>(batch_size), T = static_cast<double>(c.block_size),
                 C = static_cast<double>(c.n_embd), V = static_cast<double>(c.vocab_size),
                 H = static_cast<double>(c.n_head), L = static_cast<double>(c.n_layer);
    // mla: the latents, q/k/v and the padded qkv the op reads (about 3× the explicit q, k, v).
    const double qkv_width = static_cast<double>(
        c.mla() ? c.kv_latent_dim + c.q_latent_dim + 6 * c.n_head * (c.head_dim() + c.mla_rope_dim())
                : (c.n_head + 2 * c.kv_heads()) * c.head_dim());
    const double BT = B * T;
    const double embeddings = 2.0 * BT * C;
    const double per_layer = 15.0 * BT * C + BT * qkv_width + B * H * T * (T + 1.0) / 2.0 + 4.0 * BT;
    const double head = BT * C + 2.0 * BT + 3.0 * BT * V;
    MemoryEstimate estimate;
    estimate.parameters = count_parameters(c);
    const double P = static_cast<double>(estimate.parameters);
    estimate.state_bytes = optimizer_in_backward ? 4.0 * (3.0 * P + V * C + 4.0 * C * C) : 16.0 * P;
    estimate.activation_bytes = 4.0 * (embeddings + L * per_layer + head);
    return estimate;
}

std::string MemoryEstimate::describe(int64_t batch_size) const {
    std::ostringstream text;
    text << gib(total_bytes()) << " (" << parameters << " parameters: " << gib(state_bytes)
         << " for weights, gradients and AdamW moments; " << gib(activation_bytes) << " of activations at batch_size "
         << batch_size << ")";
    return text.str();
}

double available_memory_bytes() {
    double available = -1.0;
    std::ifstream meminfo("/proc/meminfo");
    std::string key;
    double kib = 0.0;
    std::string unit;
    while (meminfo >> key >> kib >> unit) {
        if (key == "MemAvailable:") {
            available = kib * 1024.0;
            break;
        }
    }
    const double limit = read_cgroup_value("/sys/fs/cgroup/memory.max");
    const double used = read_cgroup_value("/sys/fs/cgroup/memory.current");
    if (limit > 0.0 && used >= 0.0) {
        const double room = limit - used;
        if (available < 0.0 || room < available) available = room;
    }
    return available;
}

MemoryEstimate check_training_memory(const GPTConfig& config, int64_t batch_size, double available, double fraction,
                                     bool optimizer_in_backward) {
    const MemoryEstimate estimate = estimate_training_memory(config, batch_size, optimizer_in_backward);
    if (available >= 0.0 && estimate.total_bytes() > fraction * available)
        throw std::runtime_error("training would need about " + estimate.describe(batch_size) + ", but only " +
                                 gib(available) + " of memory is available: reduce n_embd, n_layer, block_size or "
                                 "batch_size (grad_accum keeps the tokens per step)");
    return estimate;
}

}  // namespace gpt
