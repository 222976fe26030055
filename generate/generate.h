// Autoregressive generation: prompt ids → KV-cached forward → sampling → streamed text.
//
//   context = prompt;  logits = forward over the prompt (one pass, fills the cache)
//   repeat max_new_tokens times:
//     id = sample_token(logits, window, options)     (generate/sampling.h; the penalty sees the window)
//     id == <|endoftext|> → stop (not printed)
//     bytes of id → Utf8Stream → whole characters → text; stop text found → cut before it, stop
//     logits = forward_context(context + id)          (one new row; past block_size the window slides)
//
// Sliding window: the model sees the last block_size tokens, as nanoGPT's generate crops them. Positions
// are absolute, so once the context is longer than block_size every new token re-feeds the whole window
// (nn/kv_cache.h): from then on a token costs as much as without a cache.
//
// Streaming: a byte-level BPE token can end in the middle of a UTF-8 character, so bytes are held until
// they form whole characters. Bytes that can never form one (the model is free to emit them) become
// U+FFFD, one per maximal invalid subpart, as the Unicode standard recommends; never half a character.
//
// Stop text: the output ends just before the first occurrence of the stop text in the generated text
// (the prompt is not searched). The tail that could still be the start of the stop text is held back
// until the next token decides, so streamed output never shows part of it.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/random.h"
#include "data/tokenizer.h"
#include "nn/gpt.h"
#include "generate/sampling.h"

namespace gpt {

struct GenerateOptions {
    int64_t max_new_tokens = 200;
    SamplingOptions sampling;
    std::string stop;         // empty: none; else valid UTF-8
    int64_t show_probs = 0;   // > 0: pass this many candidates per token to the token callback
    bool use_cache = true;    // false: a full forward over the window at every step (the benchmark's baseline)
};

enum class StopReason { max_new_tokens, end_of_text, stop_text };

struct GenerateResult {
    std::vector<int32_t> tokens;  // generated ids, <|endoftext|> excluded
    std::string text;             // the text streamed to on_text: whole characters, cut before the stop text
    StopReason reason = StopReason::max_new_tokens;
};

// Called with each piece of text as soon as it is whole (may be called with several characters at once).
using TextCallback = std::function<void(std::string_view text)>;
// Called once per sampled token, before its text: its id and (show_probs > 0) the top candidates of the
// distribution it was drawn from.
using TokenCallback = std::function<void(int32_t id, const std::vector<Candidate>& candidates)>;

// Bytes in, whole UTF-8 characters out.
class Utf8Stream {
public:
    std::string push(std::string_view bytes);  // the whole characters now complete
    std::string finish();                      // what is left: an unfinished character becomes U+FFFD
    bool empty() const { return pending_.empty(); }

private:
    std::string pending_;
};

// The token an empty prompt starts from: <|endoftext|> for BPE (GPT-2's convention: a sample starts like
// a new document); for a character model "\n" when it is in the vocabulary (start of a line), else
// <|endoftext|> if there is one, else id 0.
std::vector<int32_t> default_prompt(const Tokenizer& tokenizer);

// Encodes a user's prompt (special-token text such as "<|endoftext|>" becomes that token); an empty
// prompt gives default_prompt. Throws std::invalid_argument naming a character the character tokenizer
// cannot encode, and when the prompt has more tokens than block_size.
std::vector<int32_t> encode_prompt(const Tokenizer& tokenizer, std::string_view text, int64_t block_size);

// The model as generation sees it: logits [V] for the token after `context` (every token so far).
// Called once per generated token with a context one token longer than the last call's.
using NextLogits = std::function<std::vector<float>(std::span<const int32_t> context)>;

// GPT's NextLogits: forward_context through a KV cache owned by the function (use_cache), or a full
// forward over the last block_size tokens. The model must be in eval mode and outlive the function.
NextLogits model_logits(const GPT& model, bool use_cache = true);

// Generates up to max_new_tokens after `prompt` (non-empty, at most block_size tokens). Same model,
// prompt, options and generator state → same tokens.
GenerateResult generate(const GPT& model, const Tokenizer& tokenizer, const std::vector<int32_t>& prompt,
                        const GenerateOptions& options, Generator& generator, const TextCallback& on_text = {},
                        const TokenCallback& on_token = {});

// The loop itself, over any NextLogits (tests script one); `window` is how many recent tokens the
// repetition penalty looks at (the model's block_size).
GenerateResult generate(const NextLogits& next_logits, int64_t window, const Tokenizer& tokenizer,
                        const std::vector<int32_t>& prompt, const GenerateOptions& options, Generator& generator,
                        const TextCallback& on_text = {}, const TokenCallback& on_token = {});

}  // namespace gpt
