#include "train/memory_estimate.h"

#include <algorithm>
#include <cstdio>
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

}  // namespace

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
    // The MLP keeps c_fc's output and the activation's: 2·D floats per token (D = 4C by default, so
    // 7C + 8C = 15C per token with the rest of the block), 3·D for SwiGLU (c_fc is 2·D wide); QK-norm
    // keeps a second qkv.
    const double D = static_cast<double>(c.mlp_hidden_dim()), mlp_floats = (c.mlp == "swiglu" ? 3.0 : 2.0) * D;
    const double per_layer = 7.0 * BT * C + BT * mlp_floats + BT * qkv_width * (c.qk_norm ? 2.0 : 1.0) +
                             B * H * T * (T + 1.0) / 2.0 + 4.0 * BT;
    const double head = BT * C + 2.0 * BT + 3.0 * BT * V;
    MemoryEstimate estimate;
    estimate.parameters = count_parameters(c);
    const double P = static_cast<double>(estimate.parameters);
    estimate.state_bytes = optimizer_in_backward ? 4.0 * (3.0 * P + V * C + 4.0 * C * C) : 16.0 * P;
    estimate.activation_bytes = 4.0 * (embeddings + L * per_layer + head);
    return estimate;
}

MemoryEstimate estimate_training_memory(const EncoderDecoderConfig& c, int64_t batch_size) {
    const double B = static_cast<double>(batch_size), S = static_cast<double>(c.source_block_size),
                 T = static_cast<double>(c.target_block_size), C = static_cast<double>(c.n_embd),
                 F = static_cast<double>(c.feedforward_dim()), H = static_cast<double>(c.n_head),
                 V = static_cast<double>(c.target_vocab_size);
    const double encoder_layer = 12.0 * B * S * C + 2.0 * B * S * F + B * H * S * S + 4.0 * B * S;
    const double decoder_layer = 12.0 * B * T * C + 2.0 * B * T * F + B * H * T * (T + 1.0) / 2.0 +
                                 6.0 * B * T * C + 2.0 * B * S * C + B * H * T * S + 6.0 * B * T;
    const double embeddings = 2.0 * B * (S + T) * C, head = B * T * C + 3.0 * B * T * V;
    MemoryEstimate estimate;
    const double P = count_parameters(c);
    estimate.parameters = static_cast<int64_t>(std::min(P, 9e18));  // the refusal below names it
    estimate.state_bytes = 16.0 * P;
    estimate.activation_bytes = 4.0 * (embeddings + static_cast<double>(c.n_encoder_layer) * encoder_layer +
                                       static_cast<double>(c.n_decoder_layer) * decoder_layer + head);
    return estimate;
}

std::string MemoryEstimate::describe(int64_t batch_size) const {
    std::ostringstream text;
    text << gib(total_bytes()) << " (" << parameters << " parameters: " << gib(state_bytes)
         << " for weights, gradients and AdamW moments; " << gib(activation_bytes) << " of activations at batch_size "
         << batch_size << ")";
    return text.str();
}

namespace {

MemoryEstimate refuse_over(const MemoryEstimate& estimate, int64_t batch_size, double available, double fraction,
                           const char* shape_options) {
    if (available >= 0.0 && estimate.total_bytes() > fraction * available)
        throw std::runtime_error("training would need about " + estimate.describe(batch_size) + ", but only " +
                                 gib(available) + " of memory is available: reduce " + shape_options +
                                 " or batch_size (grad_accum keeps the tokens per step)");
    return estimate;
}

}  // namespace

MemoryEstimate check_training_memory(const GPTConfig& config, int64_t batch_size, double available, double fraction,
                                     bool optimizer_in_backward) {
    return refuse_over(estimate_training_memory(config, batch_size, optimizer_in_backward), batch_size, available,
                       fraction, "n_embd, n_layer, block_size");
}

MemoryEstimate check_training_memory(const EncoderDecoderConfig& config, int64_t batch_size, double available,
                                     double fraction) {
    return refuse_over(estimate_training_memory(config, batch_size), batch_size, available, fraction,
                       "n_embd, n_encoder_layer, n_decoder_layer, dim_feedforward, block_size, source_block_size");
}

}  // namespace gpt
