// GPT: token embedding + position information → n_layer pre-norm blocks → ln_f → logits through the
// token embedding's transpose (weight tying: lm_head is wte.weight, stored once), or through an output
// head lm_head.weight [V, C] of its own when tie_embeddings is false.
//   ids [B, T] → logits [B, T, V].
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "nn/attention.h"
#include "nn/gpt_config.h"
#include "nn/positional.h"

namespace gpt {

class KVCache;

// What a forward pass is asked to use or keep besides its output (a probe: with or without a tape):
//   cache: this call's tokens sit at positions cache.length().. and their keys and values are appended
//          to it; attention sees everything cached. B must be 1; no tape.
//   record_attention: `attention` receives one P [B, H, T, cached + T] per layer, computed by the same
//          kernel the model trains with.
//   record_activations: `embedding` receives the block input (token + position embeddings) [B, T, C]
//          and `activations` one BlockActivations per layer (nn/attention.h): the forward's own tensors,
//          so with a tape they carry gradients (gpt serve's forward and backpropagation views).
struct ForwardProbe {
    KVCache* cache = nullptr;
    bool record_attention = false;
    std::vector<Tensor> attention;  // output, one per layer
    bool record_activations = false;
    Tensor embedding;                           // output
    std::vector<BlockActivations> activations;  // output, one per layer
};

// The weights a forward without gradients reads (generation): the float32 parameters, or bf16 copies of
// them (autograd/bf16.h) that halve the bytes a decoding step reads.
enum class WeightFormat { float32, bf16 };
const char* weight_format_name(WeightFormat format);  // "float32", "bf16"
// "float32" or "bf16"; anything else throws std::invalid_argument naming `option` and both choices.
WeightFormat parse_weight_format(const std::string& name, const std::string& option);

class GPT : public Module {
public:
    explicit GPT(const GPTConfig& config);  // validates the config; weights are zero until init_gpt2()

    // ids [B·T] → logits [B, T, V]: logits_from_hidden(hidden(...)), with the last residual add fused with
    // ln_f (Norm::add_forward).
    Tensor forward(const std::vector<int32_t>& ids, int64_t B, int64_t T, Generator& generator,
                   ForwardProbe* probe = nullptr) const;
    // ids [B·T] → the last block's output [B, T, C], before ln_f: the one forward of the transformer.
    // `generator` is dropout's random stream.
    Tensor hidden(const std::vector<int32_t>& ids, int64_t B, int64_t T, Generator& generator,
                  ForwardProbe* probe = nullptr) const;
    // The same without a generator: no dropout. Throws std::logic_error when the model is in train mode
    // with dropout > 0 (it would silently train without dropout).
    Tensor forward(const std::vector<int32_t>& ids, int64_t B, int64_t T, ForwardProbe* probe = nullptr) const;
    Tensor hidden(const std::vector<int32_t>& ids, int64_t B, int64_t T, ForwardProbe* probe = nullptr) const;
    // The next-token logits of the last position of hidden [1, T, C]: ln_f and the [V, C] projection on
    // that one row only (generation needs no other) → [V].
    Tensor last_logits(const Tensor& hidden) const;
    // Mean next-token cross-entropy of logits [B, T, V] against targets [B·T].
    static Tensor loss(const Tensor& logits, const std::vector<int32_t>& targets);

    // Token + position embeddings (positions start.., dropout) [B, T, C]; with sinusoidal positions the
    // token embeddings are multiplied by token_scale() first.
    Tensor embed(const std::vector<int32_t>& ids, int64_t B, int64_t T, Generator& generator, int64_t start = 0) const;
    Tensor logits_from_hidden(const Tensor& hidden) const;  // ln_f, then · head_weight()ᵀ

    const GPTConfig& config() const { return config_; }

    // bf16: every Linear keeps a bf16 copy of its weight (Linear::keep_bf16_copy), and the tied head a
    // copy of wte.weight [V, C] (the embedding lookup itself stays float32), all rounded now; a forward
    // with grad mode off (NoGradGuard: generation) then reads the copies, one with grad mode on reads the
    // parameters. float32 (the default) drops the copies: the float32 forward is unchanged either way.
    // Copies are snapshots: set the format again after the weights change. GPT-2 124M: +248 MB.
    // (Latent attention's absorbed up-projections, which read c_k_up/c_v_up.weight directly, stay float32.)
    void set_inference_weights(WeightFormat format);
    WeightFormat inference_weights() const { return inference_weights_; }

    std::shared_ptr<Embedding> wte;
    // The factor on the token embeddings before positions are added: √n_embd with sinusoidal positions
    // (Vaswani et al. 2017, §3.4: the fixed table has amplitude 1 and would drown embeddings initialised
    // at std 0.02, so the model could not learn), 1 otherwise (GPT-2). The tied head reads wte unscaled.
    float token_scale() const;
    std::shared_ptr<PositionalEncoding> wpe;  // Learned… registers wpe.weight; Sinusoidal… has no parameters; null with rope
    std::vector<std::shared_ptr<Block>> h;
    std::shared_ptr<Norm> ln_f;
    std::shared_ptr<Linear> lm_head;  // tie_embeddings = false only; else null (the head is wte.weight)
    const Tensor& head_weight() const { return lm_head ? lm_head->weight : wte->weight; }  // [V, C]

private:
    // Embeddings, then the blocks, each block's last residual add fused with the norm that reads it (the
    // next block's ln_1): returns the last block's output as sum and, when `last` is given, last->forward
    // of it as normed (fused too).
    AddNorm run_blocks(const std::vector<int32_t>& ids, int64_t B, int64_t T, Generator& generator,
                       ForwardProbe* probe, const Norm* last) const;
    Tensor logits_from_normed(const Tensor& normed) const;  // · head_weight()ᵀ, and the padding mask
    void check_no_dropout() const;  // the generator-free forwards' check (see hidden above)

    GPTConfig config_;
    std::shared_ptr<Dropout> drop_;
    Tensor padding_mask_;  // [V]: 0 for tokens, -1e30 for padded ids (only when config_.vocab_used < vocab_size)
    WeightFormat inference_weights_ = WeightFormat::float32;
    Bf16Matrix head_bf16_;  // the tied head's copy of wte.weight (bf16 and tie_embeddings only); else empty
};

}  // namespace gpt
