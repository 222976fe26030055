// The encoder–decoder Transformer of Vaswani et al. (2017), "Attention Is All You Need": the encoder reads
// the source, the decoder predicts the target one token at a time through causal self-attention and
// cross attention over the encoder's output. The layers are nn/transformer_layers.h; this adds the
// embeddings, the positions, the final norms and the output projection, and computes what PyTorch's
// nn.Transformer(batch_first=True) computes between them (tests/nn/test_encoder_decoder.cpp).
//
//   source ids [B, S] → x = wte_source(ids)·√C + PE[0..S) → dropout → encoder.h.0..N−1 → encoder.ln_f
//                                                                                   (pre-norm only) = memory
//   target ids [B, T] → y = wte(ids)·√C + PE[0..T)        → dropout → decoder.h.0..M−1(·, memory)
//                                                                   → decoder.ln_f (pre-norm only)
//                     → logits = y·Wᵀ, W = wte.weight (tied, unscaled) or lm_head.weight [V, C]
// PE: the fixed sinusoidal table (nn/positional.h); √C makes the embeddings (initialised at std 0.02)
// comparable with its amplitude 1 (the paper's §3.4 scaling; GPT::token_scale does the same).
// Final norms: pre-norm leaves the residual stream unnormalised, so both stacks end with a LayerNorm
// (nn.Transformer's encoder.norm / decoder.norm). Post-norm (the paper's) already ends each layer with
// one and has none (the parity reference sets nn.Transformer's encoder.norm and decoder.norm to None).
//
// Parameter names, in named_parameters() order (PyTorch's in brackets):
//   wte.weight [V_tgt, C]          the target embedding; with share_embeddings the source's too
//   wte_source.weight [V_src, C]   share_embeddings = false only
//   encoder.h.<i>.*                TransformerEncoderLayer (encoder.layers.<i>.*, names mapped as in
//                                  nn/transformer_layers.h)
//   encoder.ln_f.{weight,bias}     norm_first only (encoder.norm)
//   decoder.h.<i>.*                TransformerDecoderLayer (decoder.layers.<i>.*)
//   decoder.ln_f.{weight,bias}     norm_first only (decoder.norm)
//   lm_head.weight [V_tgt, C]      tie_embeddings = false only (no bias)
// Parameters start at zero (LayerNorm 1/0): init_encoder_decoder (nn/init.h) before use.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "nn/positional.h"
#include "nn/transformer_layers.h"

namespace gpt {

struct EncoderDecoderConfig {
    int64_t source_vocab_size = 0;
    int64_t target_vocab_size = 0;
    int64_t source_block_size = 64;  // the longest source S
    int64_t target_block_size = 64;  // the longest decoder input T (BOS + target)
    int64_t n_encoder_layer = 3;
    int64_t n_decoder_layer = 3;
    int64_t n_head = 4;
    int64_t n_embd = 128;           // d_model, C
    int64_t dim_feedforward = 0;    // F; 0 = 4·C
    double dropout = 0.1;           // the layers' three places and the embeddings'
    std::string activation = "relu";  // "relu" (the paper's), "gelu" (exact), "gelu_tanh"
    bool norm_first = false;          // false: post-norm (the paper's), true: pre-norm
    bool share_embeddings = true;     // one table for source and target tokens (needs equal vocab sizes)
    bool tie_embeddings = true;       // the output projection is the target embedding

    int64_t feedforward_dim() const { return dim_feedforward > 0 ? dim_feedforward : 4 * n_embd; }
    TransformerLayerOptions layer_options() const;
    // Throws std::invalid_argument naming the first bad field.
    void validate() const;
};

// The parameters an EncoderDecoder of this config has, from the shapes alone (the memory check before it
// is built, the checkpoint's check of a file's /config): V_tgt·C (+ V_src·C separate, + V_tgt·C untied
// head), per encoder layer 4C² + 4C (self attention) + 2CF + F + C (feed-forward) + 4C (two LayerNorms),
// per decoder layer the same + 4C² + 4C (cross attention) + 2C (a third LayerNorm), + 4C final norms with
// norm_first. A double: exact below 2^53, and no overflow for the absurd shapes a hostile file may claim.
double count_parameters(const EncoderDecoderConfig& config);

// The decoder's self-attention keys and values of one sequence (B = 1), every decoder layer: what
// generation keeps between steps. Rows of C floats, capacity target_block_size rows per layer.
class DecoderCache {
public:
    explicit DecoderCache(const EncoderDecoderConfig& config);
    int64_t length() const { return length_; }
    int64_t capacity() const { return capacity_; }
    AttentionInference layer(int64_t l);  // the op's view of layer l's rows
    void advance(int64_t T) { length_ += T; }

private:
    std::vector<std::vector<float>> keys_, values_;
    int64_t length_ = 0, capacity_ = 0, row_ = 0;
};

// What a forward without gradients records for the report and gpt serve's forward view: every layer's
// attention probabilities as the op computes them (its sink, before dropout), for B sequences.
struct EncoderDecoderProbe {
    std::vector<Tensor> encoder_attention;  // one [B, H, S, S] per encoder layer (bidirectional)
    std::vector<Tensor> decoder_attention;  // one [B, H, T, T] per decoder layer (causal: 0 above the diagonal)
    std::vector<Tensor> cross_attention;    // one [B, H, T, S] per decoder layer (queries: target, keys: source)
};

class EncoderDecoder : public Module {
public:
    explicit EncoderDecoder(const EncoderDecoderConfig& config);  // validates; weights zero until init

    // Source ids [B·S] → memory [B, S, C]. source_padding: the padded source positions. probe: records
    // the encoder's attention (the other fields are left as they are).
    Tensor encode(const std::vector<int32_t>& source, int64_t B, int64_t S, const KeyPadding& source_padding,
                  Generator& generator, EncoderDecoderProbe* probe = nullptr) const;
    // Every decoder layer's cross-attention keys and values of memory [B, S, C] → [B, S, 2C] each:
    // computed once per source, reused at every decoding step.
    std::vector<Tensor> memory_kv(const Tensor& memory) const;
    // Decoder input ids [B·T] → the decoder's output [B, T, C] (after decoder.ln_f). With a cache (B = 1,
    // eval mode, no target padding) the T ids sit at positions cache->length().. and attend to the
    // cached ones too; the cache then holds them. probe (no cache): records the decoder's self- and cross
    // attention.
    Tensor decode(const std::vector<int32_t>& target, int64_t B, int64_t T, const std::vector<Tensor>& memory_kv,
                  const KeyPadding& source_padding, const KeyPadding& target_padding, Generator& generator,
                  DecoderCache* cache = nullptr, EncoderDecoderProbe* probe = nullptr) const;
    Tensor logits(const Tensor& hidden) const;  // [.., C] → [.., V_tgt]
    // The whole model: logits [B, T, V_tgt].
    Tensor forward(const std::vector<int32_t>& source, int64_t B, int64_t S, const KeyPadding& source_padding,
                   const std::vector<int32_t>& target, int64_t T, const KeyPadding& target_padding,
                   Generator& generator) const;
    // Mean cross-entropy of logits [B, T, V] against targets [B·T] (−100: a padded position, no loss),
    // with label smoothing ε (PyTorch's F.cross_entropy(label_smoothing=ε)).
    static Tensor loss(const Tensor& logits, const std::vector<int32_t>& targets, float label_smoothing = 0.0f);

    const EncoderDecoderConfig& config() const { return config_; }
    float token_scale() const;  // √C
    const Tensor& head_weight() const { return lm_head ? lm_head->weight : wte->weight; }

    std::shared_ptr<Embedding> wte, wte_source;  // wte_source null when shared
    std::vector<std::shared_ptr<TransformerEncoderLayer>> encoder_layers;
    std::vector<std::shared_ptr<TransformerDecoderLayer>> decoder_layers;
    std::shared_ptr<LayerNorm> encoder_ln_f, decoder_ln_f;  // norm_first only
    std::shared_ptr<Linear> lm_head;                        // tie_embeddings = false only

private:
    Tensor embed(const Embedding& table, const SinusoidalPositionalEncoding& positions, const std::vector<int32_t>& ids,
                 int64_t B, int64_t T, int64_t start, Generator& generator) const;

    EncoderDecoderConfig config_;
    std::shared_ptr<SinusoidalPositionalEncoding> source_positions_, target_positions_;
    std::shared_ptr<Dropout> drop_;
};

}  // namespace gpt
