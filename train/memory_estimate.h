// How much memory one training step needs, computed from the shapes alone, so that a configuration that
// cannot fit is refused before anything big is allocated (instead of the kernel's OOM killer ending the
// run half-way, or the machine swapping).
//
// Bytes, float32 throughout (P parameters; B batch, T block_size, C n_embd, H heads, H_kv kv heads,
// hd = C/H, V vocab, L n_layer):
//   state        16·P: weights, gradients, AdamW's m and v
//                (optimizer_in_backward: 12·P + the gradients alive at once in backward: the tied embedding's
//                 V·C, from the head's backward to the embedding's, and the largest other matrix, 4·C·C)
//   activations  what the tape keeps alive from the forward pass until backward, per step:
//     embeddings  2·BTC
//     per layer   15·BTC (ln_1, attention output, projections, residual adds, ln_2, 4C fc + 4C GELU;
//                 in general 7·BTC + 2·BTD for an MLP of width D, 3·BTD for SwiGLU)
//                 + BT·(H + 2·H_kv)·hd (qkv; twice with QK-norm) + B·H·T(T+1)/2 (softmax P, packed lower triangles)
//                 + 4·BT (LayerNorm means and 1/σ)
//                 (dropout adds nothing: its masks are regenerated from a seed in backward)
//     head        BTC (ln_f) + 3·BTV (logits, softmax saved by the loss, the logits' gradient)
// The encoder–decoder (model = transformer; S source_block_size, T target_block_size, F dim_feedforward,
// L_e/L_d layers): state 16·P as above; activations per encoder layer 12·BSC + 2·BSF + B·H·S² (full
// softmax) + 4·BS, per decoder layer 12·BTC + 2·BTF + B·H·T(T+1)/2 + 6·BTC + 2·BSC (cross attention's q,
// output, projection, residual, norm; its keys and values of the memory) + B·H·T·S + 6·BT, embeddings
// 2·B(S+T)C, head BTC + 3·BTV.
// An estimate: the backward pass's transient gradients and the allocator's slack come on top, which the
// refusal threshold below leaves room for.
#pragma once

#include <cstdint>
#include <string>

#include "common/memory.h"
#include "nn/encoder_decoder.h"
#include "nn/gpt_config.h"

namespace gpt {

struct MemoryEstimate {
    int64_t parameters = 0;
    double state_bytes = 0.0;       // 16·P (12·P + the live gradients with optimizer_in_backward)
    double activation_bytes = 0.0;  // per optimizer micro-step (grad_accum does not multiply it)
    double total_bytes() const { return state_bytes + activation_bytes; }
    // "0.42 GiB (4.4M parameters: 0.07 GiB weights+grads+AdamW; activations 0.35 GiB for B=12, T=64)"
    std::string describe(int64_t batch_size) const;
};

MemoryEstimate estimate_training_memory(const GPTConfig& config, int64_t batch_size, bool optimizer_in_backward = false);
MemoryEstimate estimate_training_memory(const EncoderDecoderConfig& config, int64_t batch_size);


// Throws std::runtime_error with the estimate and the available memory when the estimate exceeds
// `fraction` of `available` (an unknown availability, < 0, passes). Returns the estimate.
MemoryEstimate check_training_memory(const GPTConfig& config, int64_t batch_size, double available,
                                     double fraction = 0.9, bool optimizer_in_backward = false);
MemoryEstimate check_training_memory(const EncoderDecoderConfig& config, int64_t batch_size, double available,
                                     double fraction = 0.9);

}  // namespace gpt
