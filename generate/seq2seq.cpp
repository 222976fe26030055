#include "generate/seq2seq.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace gpt {

namespace {

void check_options(const EncoderDecoder& model, const std::vector<int32_t>& source, const Seq2SeqOptions& o) {
    const EncoderDecoderConfig& c = model.config();
    auto fail = [](const std::string& message) { throw std::invalid_argument("seq2seq generation: " + message); };
    if (model.is_training()) fail("the model is in train mode; call model.eval() before generating");
    if (source.empty()) fail("the source is empty");
    if (static_cast<int64_t>(source.size()) > c.source_block_size)
        fail("the source has " + std::to_string(source.size()) + " tokens, more than source_block_size " +
             std::to_string(c.source_block_size));
    if (o.max_new_tokens < 1 || o.max_new_tokens > c.target_block_size - 1)
        fail("max_new_tokens " + std::to_string(o.max_new_tokens) + " is outside [1, target_block_size − 1 = " +
             std::to_string(c.target_block_size - 1) + "]");
    for (int32_t id : {o.bos, o.eos})
        if (id < 0 || id >= c.target_vocab_size)
            fail("bos/eos id " + std::to_string(id) + " is outside the target vocabulary [0, " +
                 std::to_string(c.target_vocab_size) + ")");
    if (o.beam_width < 1) fail("beam_width must be at least 1, got " + std::to_string(o.beam_width));
}

// The source encoded once, and its keys and values for every decoder layer.
struct EncodedSource {
    std::vector<Tensor> memory_kv;
};

EncodedSource encode_once(const EncoderDecoder& model, const std::vector<int32_t>& source, Generator& no_dropout) {
    const Tensor memory = model.encode(source, 1, static_cast<int64_t>(source.size()), {}, no_dropout);
    return {model.memory_kv(memory)};
}

// log p(· | the cached prefix, token) over the target vocabulary, in double: feeds `token` at the cache's
// next position.
std::vector<double> next_log_probs(const EncoderDecoder& model, const EncodedSource& encoded, DecoderCache& cache,
                                   int32_t token, Generator& no_dropout) {
    const Tensor logits = model.logits(model.decode({token}, 1, 1, encoded.memory_kv, {}, {}, no_dropout, &cache));
    const float* l = logits.data();
    const int64_t V = logits.numel();
    const double max = *std::max_element(l, l + V);
    double sum = 0.0;
    for (int64_t v = 0; v < V; ++v) sum += std::exp(double(l[v]) - max);
    const double lse = max + std::log(sum);
    std::vector<double> out(static_cast<size_t>(V));
    for (int64_t v = 0; v < V; ++v) out[static_cast<size_t>(v)] = double(l[v]) - lse;
    return out;
}

double score_of(const Hypothesis& h, double alpha) {
    const double length = static_cast<double>(h.tokens.size() + (h.finished ? 1 : 0));
    return length > 0 ? h.log_prob / std::pow(length, alpha) : h.log_prob;
}

}  // namespace

Hypothesis greedy_decode(const EncoderDecoder& model, const std::vector<int32_t>& source, const Seq2SeqOptions& options) {
    check_options(model, source, options);
    NoGradGuard no_grad;
    Generator no_dropout(0);  // eval mode: never drawn from
    const EncodedSource encoded = encode_once(model, source, no_dropout);
    DecoderCache cache(model.config());
    Hypothesis h;
    int32_t token = options.bos;
    for (int64_t step = 0; step < options.max_new_tokens; ++step) {
        const std::vector<double> lp = next_log_probs(model, encoded, cache, token, no_dropout);
        token = static_cast<int32_t>(std::max_element(lp.begin(), lp.end()) - lp.begin());  // first maximum
        h.log_prob += lp[static_cast<size_t>(token)];
        if (token == options.eos) {
            h.finished = true;
            break;
        }
        h.tokens.push_back(token);
    }
    h.score = score_of(h, options.length_penalty);
    return h;
}

std::vector<Hypothesis> beam_search(const EncoderDecoder& model, const std::vector<int32_t>& source,
                                    const Seq2SeqOptions& options) {
    check_options(model, source, options);
    NoGradGuard no_grad;
    Generator no_dropout(0);
    const EncodedSource encoded = encode_once(model, source, no_dropout);
    const size_t k = static_cast<size_t>(options.beam_width);
    struct Live {
        Hypothesis h;
        DecoderCache cache;
        int32_t last;
    };
    std::vector<Live> live;
    live.push_back({Hypothesis{}, DecoderCache(model.config()), options.bos});
    std::vector<Hypothesis> finished;

    for (int64_t step = 0; step < options.max_new_tokens && finished.size() < k && !live.empty(); ++step) {
        struct Candidate {
            double log_prob;
            size_t beam;
            int32_t token;
        };
        std::vector<Candidate> candidates;
        for (size_t b = 0; b < live.size(); ++b) {
            const std::vector<double> lp = next_log_probs(model, encoded, live[b].cache, live[b].last, no_dropout);
            for (size_t v = 0; v < lp.size(); ++v)
                candidates.push_back({live[b].h.log_prob + lp[v], b, static_cast<int32_t>(v)});
        }
        const size_t keep = std::min(candidates.size(), 2 * k);
        std::partial_sort(candidates.begin(), candidates.begin() + static_cast<std::ptrdiff_t>(keep), candidates.end(),
                          [](const Candidate& a, const Candidate& b) {
                              if (a.log_prob != b.log_prob) return a.log_prob > b.log_prob;
                              return a.beam != b.beam ? a.beam < b.beam : a.token < b.token;
                          });
        std::vector<Live> next;
        for (size_t i = 0; i < keep && next.size() < k && finished.size() < k; ++i) {
            const Candidate& c = candidates[i];
            Hypothesis h = live[c.beam].h;
            h.log_prob = c.log_prob;
            if (c.token == options.eos) {
                h.finished = true;
                h.score = score_of(h, options.length_penalty);
                finished.push_back(std::move(h));
                continue;
            }
            h.tokens.push_back(c.token);
            next.push_back({std::move(h), live[c.beam].cache, c.token});  // the parent's cache, copied
        }
        live = std::move(next);
    }
    // Cut at max_new_tokens: the live hypotheses count as they stand, until k are there.
    for (Live& l : live) {
        if (finished.size() >= k) break;
        l.h.score = score_of(l.h, options.length_penalty);
        finished.push_back(std::move(l.h));
    }
    std::stable_sort(finished.begin(), finished.end(),
                     [](const Hypothesis& a, const Hypothesis& b) { return a.score > b.score; });
    return finished;
}

}  // namespace gpt
