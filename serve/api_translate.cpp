// The views of an encoder–decoder run (model = transformer; serve/api.h): model_view of its checkpoint,
// translate_forward_view (one source/target pair's attention maps and the decoder's candidates, from
// report/pair_analysis.h: the model's own encode and decode with a probe) and translate_view (the
// source's translation, generate/seq2seq.h, as `gpt translate` computes it). Shapes: S source tokens, T
// decoder inputs (bos + target), H heads, V the model's vocabulary (the tokenizer's + bos, eos).
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/parallel_corpus.h"
#include "generate/sampling.h"
#include "generate/seq2seq.h"
#include "report/pair_analysis.h"
#include "serve/api.h"
#include "serve/request.h"

namespace gpt {

using nlohmann::json;

namespace {

inline constexpr int64_t kMaxBeam = 16;  // beam width of one translate request

// A token of the model's vocabulary for the page: the tokenizer's (token_json), or bos / eos.
json target_token_json(const Tokenizer& tokenizer, const Seq2SeqVocabulary& vocabulary, int32_t id) {
    if (id == vocabulary.bos()) return {{"id", id}, {"text", "<bos>"}, {"bytes", json::array()}, {"special", true}};
    if (id == vocabulary.eos()) return {{"id", id}, {"text", "<eos>"}, {"bytes", json::array()}, {"special", true}};
    return token_json(tokenizer, id);
}

json tokens_json(const Tokenizer& tokenizer, const Seq2SeqVocabulary& vocabulary, const std::vector<int32_t>& ids) {
    json out = json::array();
    for (const int32_t id : ids) out.push_back(target_token_json(tokenizer, vocabulary, id));
    return out;
}

// `key`'s text encoded by the tokenizer, at most `most` tokens (`what` names the limit); a character the
// vocabulary lacks, or too many tokens: BadRequest naming the field.
std::vector<int32_t> text_ids(const LoadedEncoderDecoder& checkpoint, const std::string& text, const char* key,
                              int64_t most, const std::string& what) {
    std::vector<int32_t> ids;
    try {
        ids = checkpoint.tokenizer->encode(text);
    } catch (const std::exception& e) {  // a character the checkpoint's vocabulary lacks
        throw BadRequest(std::string(key) + " cannot be encoded with the run's tokenizer: " + e.what());
    }
    if (static_cast<int64_t>(ids.size()) > most)
        throw BadRequest(std::string(key) + " is " + std::to_string(ids.size()) + " tokens; " + what);
    return ids;
}

// "source": 1..source_block_size tokens.
std::vector<int32_t> source_ids(const LoadedEncoderDecoder& checkpoint, const json& request) {
    if (!request.contains("source") || request["source"].is_null())
        throw BadRequest("\"source\" (the text to translate) is required");
    const int64_t most = checkpoint.config.source_block_size;
    std::vector<int32_t> ids = text_ids(checkpoint, text_field(request, "source", kMaxPromptBytes), "source", most,
                                        "the encoder reads at most " + std::to_string(most) + " (source_block_size)");
    if (ids.empty()) throw BadRequest("source is empty: the encoder reads 1.." + std::to_string(most) + " tokens");
    return ids;
}

Seq2SeqOptions decoding_options(const LoadedEncoderDecoder& checkpoint, const json& request) {
    const Seq2SeqVocabulary vocabulary{checkpoint.tokenizer->vocab_size()};
    Seq2SeqOptions options;
    options.bos = vocabulary.bos();
    options.eos = vocabulary.eos();
    const int64_t most = checkpoint.config.target_block_size - 1;  // the bos takes a position
    options.max_new_tokens = integer_field(request, "max_new_tokens", most, 1, most);
    options.beam_width = integer_field(request, "beam", 1, 1, kMaxBeam);
    options.length_penalty = number_field(request, "length_penalty", 1.0);
    return options;
}

// The decoder's kTopCandidates most probable tokens at one position (softmax of its logits).
json candidates_json(const Tokenizer& tokenizer, const Seq2SeqVocabulary& vocabulary, const float* logits, int64_t V) {
    const std::vector<float> probs = softmax_with_temperature(std::span<const float>(logits, static_cast<size_t>(V)), 1.0f);
    json out = json::array();
    for (const Candidate& c : top_candidates(probs, kTopCandidates)) {
        json token = target_token_json(tokenizer, vocabulary, c.id);
        token["p"] = c.probability;
        out.push_back(std::move(token));
    }
    return out;
}

// One head's [rows, cols] of a recorded [1, H, rows, cols] probability tensor, 4 significant digits.
json head_matrix(const Tensor& p, int64_t h, int64_t rows, int64_t cols) {
    json matrix = json::array();
    for (int64_t i = 0; i < rows; ++i) matrix.push_back(compact_row(p.data() + (h * rows + i) * cols, cols));
    return matrix;
}

// Which maps one answer sends: [layer][head] of each group (layers past a stack's depth: none).
struct PairSelection {
    std::vector<std::vector<bool>> encoder, decoder, cross;
    bool left_out = false;
};

// select_matrices' rules (serve/api_forward.cpp) for the three groups: upper bounds on the bytes from the
// shapes alone, before any work -- every number at most 11 bytes, the decoder's masked upper triangle 2
// ("0,"); the encoder's maps and the cross maps are full. Over kMaxResponseBytes: refused (413 naming the
// limit) unless "fit": true, which sends what fits in the page's order (by layer as listed; in a layer
// by head: encoder, decoder, cross), each matrix whole or not at all, and says "truncated".
PairSelection select_pair_matrices(const EncoderDecoderConfig& c, int64_t S, int64_t T, const std::vector<int64_t>& layers,
                                   const std::vector<int64_t>& heads, bool fit) {
    const auto s = static_cast<double>(S), t = static_cast<double>(T);
    const double encoder_bytes = s * s * 11, decoder_bytes = t * (t + 1) / 2 * 11 + t * (t - 1) / 2 * 2,
                 cross_bytes = t * s * 11;
    const double fixed = 64 * 1024;  // tokens, candidates, translation
    const auto H = static_cast<size_t>(c.n_head);
    PairSelection sel{std::vector<std::vector<bool>>(static_cast<size_t>(c.n_encoder_layer), std::vector<bool>(H, false)),
                      std::vector<std::vector<bool>>(static_cast<size_t>(c.n_decoder_layer), std::vector<bool>(H, false)),
                      std::vector<std::vector<bool>>(static_cast<size_t>(c.n_decoder_layer), std::vector<bool>(H, false))};
    double all = fixed;
    for (const int64_t l : layers)
        all += static_cast<double>(heads.size()) * ((l < c.n_encoder_layer ? encoder_bytes : 0.0) +
                                                    (l < c.n_decoder_layer ? decoder_bytes + cross_bytes : 0.0));
    if (!fit && all > static_cast<double>(kMaxResponseBytes)) {
        char text[400];
        std::snprintf(text, sizeof text,
                      "the forward view of %lld source and %lld decoder tokens for %zu layers x %zu heads would be up "
                      "to %.1f MB; the limit is %zu bytes (%.0f MB): ask for less with \"layers\", \"heads\" (lists of "
                      "indices), a shorter source or target, or \"fit\": true (what fits)",
                      static_cast<long long>(S), static_cast<long long>(T), layers.size(), heads.size(), all / 1e6,
                      kMaxResponseBytes, static_cast<double>(kMaxResponseBytes) / (1024.0 * 1024.0));
        throw ResponseTooLarge(text);
    }
    ResponseBudget budget(static_cast<double>(kMaxResponseBytes) - fixed);
    auto take = [&](double bytes) { return budget.take(bytes); };
    for (const int64_t l : layers)
        for (const int64_t h : heads) {
            const auto li = static_cast<size_t>(l), hi = static_cast<size_t>(h);
            if (l < c.n_encoder_layer) sel.encoder[li][hi] = take(encoder_bytes);
            if (l < c.n_decoder_layer) {
                sel.decoder[li][hi] = take(decoder_bytes);
                sel.cross[li][hi] = take(cross_bytes);
            }
        }
    sel.left_out = budget.left_out();
    return sel;
}

// [L][H] of the chosen maps of one group (null where not sent).
json group_json(const std::vector<Tensor>& recorded, const std::vector<std::vector<bool>>& chosen, int64_t rows,
                int64_t cols) {
    json out = json::array();
    for (size_t l = 0; l < chosen.size(); ++l) {
        json by_head(chosen[l].size(), nullptr);
        for (size_t h = 0; h < chosen[l].size(); ++h)
            if (chosen[l][h]) by_head[h] = head_matrix(recorded[l], static_cast<int64_t>(h), rows, cols);
        out.push_back(std::move(by_head));
    }
    return out;
}

}  // namespace

json model_view(const LoadedEncoderDecoder& checkpoint) {
    const EncoderDecoderConfig& c = checkpoint.config;
    json parameters = json::array();
    for (const auto& [name, tensor] : checkpoint.model->named_parameters())
        parameters.push_back({{"name", name}, {"shape", tensor.shape()}});
    return {{"model", "transformer"},
            {"config",
             {{"source_vocab_size", c.source_vocab_size}, {"target_vocab_size", c.target_vocab_size},
              {"source_block_size", c.source_block_size}, {"target_block_size", c.target_block_size},
              {"n_encoder_layer", c.n_encoder_layer}, {"n_decoder_layer", c.n_decoder_layer}, {"n_head", c.n_head},
              {"n_embd", c.n_embd}, {"dim_feedforward", c.feedforward_dim()}, {"activation", c.activation},
              {"norm_first", c.norm_first}, {"share_embeddings", c.share_embeddings},
              {"tie_embeddings", c.tie_embeddings}, {"head_dim", c.n_embd / c.n_head}}},
            {"tokenizer", checkpoint.tokenizer->type()},
            {"parameter_count", checkpoint.model->parameter_count()},
            {"parameters", parameters}};
}

json translate_forward_view(const LoadedEncoderDecoder& checkpoint, const json& request) {
    const EncoderDecoderConfig& c = checkpoint.config;
    const Tokenizer& tokenizer = *checkpoint.tokenizer;
    const Seq2SeqVocabulary vocabulary{tokenizer.vocab_size()};
    const std::vector<int32_t> source = source_ids(checkpoint, request);
    // "target": the decoder's input after its bos (teacher forcing); absent or null: the model's own
    // greedy translation of the source, as `gpt translate` computes it.
    const bool translated = !request.contains("target") || request["target"].is_null();
    std::vector<int32_t> target;
    json translation = nullptr;
    if (translated) {
        const Hypothesis greedy = greedy_decode(*checkpoint.model, source, decoding_options(checkpoint, json::object()));
        target = greedy.tokens;
        translation = {{"text", decode_target(tokenizer, greedy.tokens)},
                       {"tokens", tokens_json(tokenizer, vocabulary, greedy.tokens)},
                       {"finished", greedy.finished},
                       {"log_prob", greedy.log_prob}};
    } else {
        const int64_t most = c.target_block_size - 1;
        target = text_ids(checkpoint, text_field(request, "target", kMaxPromptBytes), "target", most,
                          "the decoder reads at most " + std::to_string(most) + " after its bos (target_block_size " +
                              std::to_string(c.target_block_size) + ")");
    }
    const auto S = static_cast<int64_t>(source.size()), T = static_cast<int64_t>(target.size()) + 1;
    // "layers": indices into the deeper stack (a layer the other stack lacks sends none of its maps).
    const std::vector<int64_t> layers =
        index_list_field(request, "layers", std::max(c.n_encoder_layer, c.n_decoder_layer));
    const std::vector<int64_t> heads = index_list_field(request, "heads", c.n_head);
    const bool fit = fit_field(request);
    const PairSelection sent = select_pair_matrices(c, S, T, layers, heads, fit);
    // The decoder position whose candidates the bars show: by default the last (what follows the target).
    const int64_t position = integer_field(request, "position", T - 1, 0, T - 1);

    PairAnalysis pair;
    try {
        pair = analyse_pair(*checkpoint.model, vocabulary, source, target);
    } catch (const std::invalid_argument& e) {  // the lengths are checked above; kept as a 400 all the same
        throw BadRequest(e.what());
    }
    const int64_t V = static_cast<int64_t>(pair.logits.size()) / T;
    // The token the candidates predict: decoder input position + 1 (a target token), or eos after the last.
    const int32_t actual = position + 1 < T ? pair.decoder_input[static_cast<size_t>(position + 1)] : vocabulary.eos();
    const std::vector<float> probs =
        softmax_with_temperature(std::span<const float>(pair.row(position), static_cast<size_t>(V)), 1.0f);
    json expected = target_token_json(tokenizer, vocabulary, actual);
    expected["p"] = probs[static_cast<size_t>(actual)];
    return {{"model", "transformer"},
            {"source_tokens", tokens_json(tokenizer, vocabulary, source)},
            {"S", S},
            {"decoder_tokens", tokens_json(tokenizer, vocabulary, pair.decoder_input)},
            {"T", T},
            {"target", decode_target(tokenizer, target)},
            {"translated", translated},
            {"translation", translation},  // null when the request gave the target
            {"encoder_attention", group_json(pair.attention.encoder_attention, sent.encoder, S, S)},
            {"decoder_attention", group_json(pair.attention.decoder_attention, sent.decoder, T, T)},
            {"cross_attention", group_json(pair.attention.cross_attention, sent.cross, T, S)},
            {"position", position},
            {"candidates", candidates_json(tokenizer, vocabulary, pair.row(position), V)},
            {"expected", expected},  // the token that follows at `position` (the target's, or eos), and its p
            {"vocabulary", V},
            {"truncated", sent.left_out}};
}

json translate_view(const LoadedEncoderDecoder& checkpoint, const json& request) {
    const Tokenizer& tokenizer = *checkpoint.tokenizer;
    const Seq2SeqVocabulary vocabulary{tokenizer.vocab_size()};
    const std::vector<int32_t> source = source_ids(checkpoint, request);
    const Seq2SeqOptions options = decoding_options(checkpoint, request);
    const Hypothesis best = options.beam_width == 1 ? greedy_decode(*checkpoint.model, source, options)
                                                    : beam_search(*checkpoint.model, source, options).front();
    return {{"text", decode_target(tokenizer, best.tokens)},
            {"tokens", tokens_json(tokenizer, vocabulary, best.tokens)},
            {"finished", best.finished},  // ended with eos (else cut at max_new_tokens)
            {"log_prob", best.log_prob},
            {"score", best.score},
            {"beam", options.beam_width},
            {"length_penalty", options.length_penalty}};
}

}  // namespace gpt
