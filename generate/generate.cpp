#include "generate/generate.h"

#include <algorithm>
#include <memory>
#include <stdexcept>

#include "data/utf8.h"
#include "nn/kv_cache.h"

namespace gpt {

std::string Utf8Stream::push(std::string_view bytes) {
    pending_.append(bytes);
    std::string out;
    size_t pos = 0;
    while (pos < pending_.size()) {
        char32_t code_point = 0;
        const int length = utf8::sequence_length(pending_, pos, code_point);
        if (length > 0) {
            out.append(pending_, pos, static_cast<size_t>(length));
            pos += static_cast<size_t>(length);
            continue;
        }
        // A lead byte whose continuation bytes are all valid so far and run to the end of what we have:
        // the rest of the character may come with the next token.
        const size_t invalid = utf8::invalid_length(pending_, pos);
        const auto lead = static_cast<uint8_t>(pending_[pos]);
        if (lead >= 0xC2 && lead <= 0xF4 && pos + invalid == pending_.size()) break;
        utf8::append(out, utf8::kReplacement);
        pos += invalid;
    }
    pending_.erase(0, pos);
    return out;
}

std::string Utf8Stream::finish() {
    std::string out;
    if (!pending_.empty()) utf8::append(out, utf8::kReplacement);  // a valid but unfinished prefix: one subpart
    pending_.clear();
    return out;
}

std::vector<int32_t> default_prompt(const Tokenizer& tokenizer) {
    const std::optional<int32_t> end_of_text = tokenizer.end_of_text_id();
    if (tokenizer.type() == "bpe" && end_of_text) return {*end_of_text};
    for (int32_t id = 0; id < tokenizer.vocab_size(); ++id)
        if (tokenizer.token_bytes(id) == "\n") return {id};
    if (end_of_text) return {*end_of_text};
    return {0};
}

std::vector<int32_t> encode_prompt(const Tokenizer& tokenizer, std::string_view text, int64_t block_size) {
    if (text.empty()) return default_prompt(tokenizer);
    EncodeOptions options;
    options.allow_special = true;
    std::vector<int32_t> ids;
    try {
        ids = tokenizer.encode(text, options);
    } catch (const std::invalid_argument& e) {
        throw std::invalid_argument(std::string("prompt: ") + e.what());
    }
    if (static_cast<int64_t>(ids.size()) > block_size)
        throw std::invalid_argument("prompt has " + std::to_string(ids.size()) + " tokens, more than the model's block_size " +
                                    std::to_string(block_size) + "; shorten it");
    return ids;
}

namespace {

// Length of the longest proper prefix of `stop` that `text` ends with: bytes that may yet become the stop text.
size_t stop_prefix_at_end(const std::string& text, const std::string& stop) {
    for (size_t k = std::min(stop.size() - 1, text.size()); k > 0; --k)
        if (text.compare(text.size() - k, k, stop, 0, k) == 0) return k;
    return 0;
}

}  // namespace

NextLogits model_logits(const GPT& model, bool use_cache) {
    if (use_cache) {
        auto cache = std::make_shared<KVCache>(model.config());
        return [&model, cache](std::span<const int32_t> context) {
            std::vector<float> logits = forward_context(model, *cache, context).to_vector();
            logits.resize(static_cast<size_t>(model.config().tokens()));  // padded ids are never sampled
            return logits;
        };
    }
    return [&model](std::span<const int32_t> context) {
        NoGradGuard no_grad;
        const size_t window = std::min(context.size(), static_cast<size_t>(model.config().block_size));
        const std::vector<int32_t> ids(context.end() - static_cast<std::ptrdiff_t>(window), context.end());
        // V: the real tokens only, so a padded id (vocab_used < vocab_size) can never be sampled.
        const int64_t T = static_cast<int64_t>(window), V = model.config().tokens();
        // As nanoGPT at inference: every block over the whole window, ln_f and the projection on the last row.
        const Tensor logits = model.last_logits(model.hidden(ids, 1, T));
        return std::vector<float>(logits.data(), logits.data() + V);
    };
}

GenerateResult generate(const GPT& model, const Tokenizer& tokenizer, const std::vector<int32_t>& prompt,
                        const GenerateOptions& options, Generator& generator, const TextCallback& on_text,
                        const TokenCallback& on_token) {
    const GPTConfig& config = model.config();
    if (static_cast<int64_t>(prompt.size()) > config.block_size)
        throw std::invalid_argument("generate: prompt has " + std::to_string(prompt.size()) +
                                    " tokens, more than block_size " + std::to_string(config.block_size));
    if (tokenizer.vocab_size() != config.tokens())
        throw std::invalid_argument("generate: tokenizer vocabulary " + std::to_string(tokenizer.vocab_size()) +
                                    " differs from the model's vocab_size " + std::to_string(config.tokens()));
    return generate(model_logits(model, options.use_cache), config.block_size, tokenizer, prompt, options, generator,
                    on_text, on_token);
}

GenerateResult generate(const NextLogits& next_logits, int64_t window, const Tokenizer& tokenizer,
                        const std::vector<int32_t>& prompt, const GenerateOptions& options, Generator& generator,
                        const TextCallback& on_text, const TokenCallback& on_token) {
    options.sampling.validate();
    if (options.max_new_tokens < 0)
        throw std::invalid_argument("--max_new_tokens must be >= 0, got " + std::to_string(options.max_new_tokens));
    if (utf8::find_invalid(options.stop) != std::string::npos)
        throw std::invalid_argument("--stop: " + utf8::invalid_message(options.stop, utf8::find_invalid(options.stop)));
    if (prompt.empty()) throw std::invalid_argument("generate: empty prompt (encode_prompt gives a start token)");

    const std::optional<int32_t> end_of_text = tokenizer.end_of_text_id();
    std::vector<int32_t> context = prompt;
    GenerateResult result;
    Utf8Stream stream;
    size_t emitted = 0;      // bytes of result.text already given to on_text
    size_t search_from = 0;  // the stop text cannot start before this byte
    auto emit_until = [&](size_t end) {
        if (end > emitted && on_text) on_text(std::string_view(result.text).substr(emitted, end - emitted));
        emitted = std::max(emitted, end);
    };
    // Appends whole characters; true when the stop text has appeared (result.text is then cut before it).
    auto add_text = [&](const std::string& piece) {
        result.text += piece;
        if (options.stop.empty()) {
            emit_until(result.text.size());
            return false;
        }
        const size_t found = result.text.find(options.stop, search_from);
        if (found != std::string::npos) {
            result.text.resize(found);
            emit_until(found);
            return true;
        }
        search_from = result.text.size() >= options.stop.size() ? result.text.size() - options.stop.size() + 1 : 0;
        emit_until(result.text.size() - stop_prefix_at_end(result.text, options.stop));
        return false;
    };

    for (int64_t step = 0; step < options.max_new_tokens; ++step) {
        const std::vector<float> logits = next_logits(context);
        const size_t recent = std::min(context.size(), static_cast<size_t>(window));
        const std::vector<float> probs =
            sampling_distribution(logits, std::span<const int32_t>(context).last(recent), options.sampling);
        const int32_t id = options.sampling.temperature == 0.0f ? argmax(probs) : draw(probs, generator);
        if (on_token)
            on_token(id, options.show_probs > 0 ? top_candidates(probs, options.show_probs) : std::vector<Candidate>());
        if (end_of_text && id == *end_of_text) {
            result.reason = StopReason::end_of_text;
            break;
        }
        context.push_back(id);
        result.tokens.push_back(id);
        if (add_text(stream.push(tokenizer.token_bytes(id)))) {
            result.reason = StopReason::stop_text;
            return result;
        }
    }
    if (add_text(stream.finish())) {
        result.reason = StopReason::stop_text;
        return result;
    }
    emit_until(result.text.size());  // a held-back start of the stop text that never completed
    return result;
}

}  // namespace gpt
