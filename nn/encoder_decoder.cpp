#include "nn/encoder_decoder.h"

#include <cmath>
#include <stdexcept>

namespace gpt {

namespace {

void require(bool ok, const std::string& message) {
    if (!ok) throw std::invalid_argument("encoder-decoder config: " + message);
}

// A container that only gives its children dotted names: encoder.h.0, encoder.ln_f, … .
class Container : public Module {
public:
    template <class M>
    std::shared_ptr<M> add(const std::string& name, std::shared_ptr<M> module) {
        return register_module(name, std::move(module));
    }
};

}  // namespace

TransformerLayerOptions EncoderDecoderConfig::layer_options() const {
    TransformerLayerOptions o;
    o.d_model = n_embd;
    o.n_head = n_head;
    o.dim_feedforward = feedforward_dim();
    o.dropout = static_cast<float>(dropout);
    o.activation = activation;
    o.norm_first = norm_first;
    return o;
}

void EncoderDecoderConfig::validate() const {
    require(source_vocab_size > 0, "source_vocab_size must be positive, got " + std::to_string(source_vocab_size));
    require(target_vocab_size > 0, "target_vocab_size must be positive, got " + std::to_string(target_vocab_size));
    require(source_block_size > 0, "source_block_size must be positive, got " + std::to_string(source_block_size));
    require(target_block_size > 0, "target_block_size must be positive, got " + std::to_string(target_block_size));
    require(n_encoder_layer > 0, "n_encoder_layer must be positive, got " + std::to_string(n_encoder_layer));
    require(n_decoder_layer > 0, "n_decoder_layer must be positive, got " + std::to_string(n_decoder_layer));
    require(!share_embeddings || source_vocab_size == target_vocab_size,
            "share_embeddings needs source_vocab_size (" + std::to_string(source_vocab_size) +
                ") equal to target_vocab_size (" + std::to_string(target_vocab_size) + ")");
    try {
        layer_options().validate();
    } catch (const std::invalid_argument& error) {
        throw std::invalid_argument(std::string("encoder-decoder config: ") + error.what());
    }
}

double count_parameters(const EncoderDecoderConfig& c) {
    const double C = static_cast<double>(c.n_embd), F = static_cast<double>(c.feedforward_dim());
    const double attention = 4.0 * C * C + 4.0 * C, feed_forward = 2.0 * C * F + F + C, norm = 2.0 * C;
    const double encoder_layer = attention + feed_forward + 2.0 * norm;
    const double decoder_layer = 2.0 * attention + feed_forward + 3.0 * norm;
    return static_cast<double>(c.target_vocab_size) * C * (c.tie_embeddings ? 1.0 : 2.0) +
           (c.share_embeddings ? 0.0 : static_cast<double>(c.source_vocab_size) * C) +
           static_cast<double>(c.n_encoder_layer) * encoder_layer + static_cast<double>(c.n_decoder_layer) * decoder_layer +
           (c.norm_first ? 2.0 * norm : 0.0);
}

DecoderCache::DecoderCache(const EncoderDecoderConfig& config)
    : capacity_(config.target_block_size), row_(config.n_embd) {
    const size_t floats = static_cast<size_t>(capacity_ * row_);
    keys_.assign(static_cast<size_t>(config.n_decoder_layer), std::vector<float>(floats));
    values_.assign(static_cast<size_t>(config.n_decoder_layer), std::vector<float>(floats));
}

AttentionInference DecoderCache::layer(int64_t l) {
    AttentionInference state;
    state.keys = keys_.at(static_cast<size_t>(l)).data();
    state.values = values_.at(static_cast<size_t>(l)).data();
    state.cached = length_;
    state.capacity = capacity_;
    return state;
}

EncoderDecoder::EncoderDecoder(const EncoderDecoderConfig& config) : config_(config) {
    config_.validate();
    const int64_t C = config_.n_embd;
    const TransformerLayerOptions options = config_.layer_options();
    wte = register_module("wte", std::make_shared<Embedding>(config_.target_vocab_size, C));
    if (!config_.share_embeddings)
        wte_source = register_module("wte_source", std::make_shared<Embedding>(config_.source_vocab_size, C));
    source_positions_ = std::make_shared<SinusoidalPositionalEncoding>(config_.source_block_size, C);
    target_positions_ = std::make_shared<SinusoidalPositionalEncoding>(config_.target_block_size, C);
    drop_ = register_module("drop", std::make_shared<Dropout>(static_cast<float>(config_.dropout)));

    auto encoder = register_module("encoder", std::make_shared<Container>());
    auto encoder_h = encoder->add("h", std::make_shared<Container>());
    for (int64_t i = 0; i < config_.n_encoder_layer; ++i)
        encoder_layers.push_back(encoder_h->add(std::to_string(i), std::make_shared<TransformerEncoderLayer>(options)));
    if (config_.norm_first) encoder_ln_f = encoder->add("ln_f", std::make_shared<LayerNorm>(C));

    auto decoder = register_module("decoder", std::make_shared<Container>());
    auto decoder_h = decoder->add("h", std::make_shared<Container>());
    for (int64_t i = 0; i < config_.n_decoder_layer; ++i)
        decoder_layers.push_back(decoder_h->add(std::to_string(i), std::make_shared<TransformerDecoderLayer>(options)));
    if (config_.norm_first) decoder_ln_f = decoder->add("ln_f", std::make_shared<LayerNorm>(C));

    if (!config_.tie_embeddings)
        lm_head = register_module("lm_head", std::make_shared<Linear>(C, config_.target_vocab_size, false));
}

float EncoderDecoder::token_scale() const { return static_cast<float>(std::sqrt(static_cast<double>(config_.n_embd))); }

Tensor EncoderDecoder::embed(const Embedding& table, const SinusoidalPositionalEncoding& positions,
                             const std::vector<int32_t>& ids, int64_t B, int64_t T, int64_t start,
                             Generator& generator) const {
    check(static_cast<int64_t>(ids.size()) == B * T, "EncoderDecoder",
          "got " + std::to_string(ids.size()) + " token ids for B=" + std::to_string(B) + ", T=" + std::to_string(T));
    // [B, T, C]·√C + [T, C] (broadcast over B); positions check their own range against the block size.
    const Tensor tokens = mul_scalar(table.forward(ids, {B, T}), token_scale());
    return drop_->forward(add(tokens, positions.forward(T, start)), generator);
}

Tensor EncoderDecoder::encode(const std::vector<int32_t>& source, int64_t B, int64_t S, const KeyPadding& source_padding,
                              Generator& generator, EncoderDecoderProbe* probe) const {
    Tensor x = embed(wte_source ? *wte_source : *wte, *source_positions_, source, B, S, 0, generator);
    if (probe) probe->encoder_attention.clear();
    for (const auto& layer : encoder_layers) {
        AttentionInference sink;
        sink.want_probs = probe != nullptr;
        x = layer->forward(x, generator, source_padding, probe ? &sink : nullptr);
        if (probe) probe->encoder_attention.push_back(sink.probs);
    }
    return encoder_ln_f ? encoder_ln_f->forward(x) : x;
}

std::vector<Tensor> EncoderDecoder::memory_kv(const Tensor& memory) const {
    std::vector<Tensor> kv;
    for (const auto& layer : decoder_layers) kv.push_back(layer->cross_attn->memory_kv(memory));
    return kv;
}

Tensor EncoderDecoder::decode(const std::vector<int32_t>& target, int64_t B, int64_t T,
                              const std::vector<Tensor>& memory_kv, const KeyPadding& source_padding,
                              const KeyPadding& target_padding, Generator& generator, DecoderCache* cache,
                              EncoderDecoderProbe* probe) const {
    check(memory_kv.size() == decoder_layers.size(), "EncoderDecoder",
          "decode needs one memory key/value tensor per decoder layer (" + std::to_string(decoder_layers.size()) +
              "), got " + std::to_string(memory_kv.size()));
    if (cache) {
        check(B == 1 && target_padding.empty() && !is_training(), "EncoderDecoder",
              "a decoder cache takes one unpadded sequence (B = 1) in eval mode");
        check(cache->length() + T <= cache->capacity(), "EncoderDecoder",
              std::to_string(cache->length()) + " cached + " + std::to_string(T) + " new tokens exceed target_block_size " +
                  std::to_string(cache->capacity()));
    }
    check(!(cache && probe), "EncoderDecoder", "decode records attention without a cache only");
    Tensor y = embed(*wte, *target_positions_, target, B, T, cache ? cache->length() : 0, generator);
    if (probe) probe->decoder_attention.clear(), probe->cross_attention.clear();
    for (size_t l = 0; l < decoder_layers.size(); ++l) {
        DecoderAttentionOptions attention{target_padding, source_padding, nullptr, nullptr};
        AttentionInference state, cross;
        if (cache) {
            state = cache->layer(static_cast<int64_t>(l));
            attention.self_inference = &state;
        }
        if (probe) {
            state.want_probs = cross.want_probs = true;
            attention.self_inference = &state;
            attention.cross_inference = &cross;
        }
        y = decoder_layers[l]->forward_kv(y, memory_kv[l], generator, attention);
        if (probe) probe->decoder_attention.push_back(state.probs), probe->cross_attention.push_back(cross.probs);
    }
    if (cache) cache->advance(T);
    return decoder_ln_f ? decoder_ln_f->forward(y) : y;
}

Tensor EncoderDecoder::logits(const Tensor& hidden) const { return linear(hidden, head_weight(), Tensor()); }

Tensor EncoderDecoder::forward(const std::vector<int32_t>& source, int64_t B, int64_t S, const KeyPadding& source_padding,
                               const std::vector<int32_t>& target, int64_t T, const KeyPadding& target_padding,
                               Generator& generator) const {
    const Tensor memory = encode(source, B, S, source_padding, generator);
    return logits(decode(target, B, T, memory_kv(memory), source_padding, target_padding, generator));
}

Tensor EncoderDecoder::loss(const Tensor& logits, const std::vector<int32_t>& targets, float label_smoothing) {
    return cross_entropy(logits, targets, -100, label_smoothing);
}

}  // namespace gpt
