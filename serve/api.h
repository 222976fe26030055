// gpt serve's JSON API: what each view of the page asks for, computed from the model's own code.
//   training_view  metrics.jsonl as columns, the records from index `since` on (a page that polls
//                  asks only for what is new; a line still being written is left for the next poll)
//   model_view     the checkpoint's kind ("model"), configuration and parameter shapes
//   forward_view   one prompt through GPT::hidden with a ForwardProbe that records attention (the
//                  attention op's sink) and activations (nn/gpt.h), the chosen token's stages
//                  (serve/token_stages.h), then the sampling steps of generate/sampling.h one by one
//                  for that token's prediction — the same functions `gpt sample` runs
//   generate_view  n tokens appended by generate() (the code of `gpt sample`), and the length in tokens
//   backprop_view  forward + cross-entropy + backward on the tape for one (position, target) example;
//                  optionally one optimizer step on a scratch copy of the weights
// The kinds of run (model_view's "model"): "gpt"; "bert" (a GPT with bidirectional attention, trained as
// a masked LM: its forward view's maps are full matrices and its bars at position i are the model's
// prediction for token i itself, or for a [MASK] put there with "mask": true; it has no generate or
// backprop view); "transformer" (the encoder–decoder, serve/api_translate.cpp):
//   translate_forward_view  one source/target pair through the model's own encode and decode
//                  (report/pair_analysis.h): encoder self-attention [L_enc][H][S][S], decoder
//                  self-attention [L_dec][H][T][T] (causal), cross-attention [L_dec][H][T][S], and the
//                  decoder's candidates at a position; the target is the model's greedy translation
//                  unless the request gives one
//   translate_view the source's translation: greedy or beam search (generate/seq2seq.h), `gpt translate`
// The server answers a view the run's kind lacks with 400 naming both.
// Each view reads a request object and returns a response object (nlohmann::json). A request that is
// wrong (missing or mistyped field, value out of range, prompt over a limit) throws BadRequest, which
// the server answers with HTTP 400 and the message.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "report/report_data.h"
#include "serve/run_catalog.h"
#include "checkpoint/encoder_decoder_file.h"
#include "checkpoint/model_file.h"

namespace gpt {

class ForwardCache;

struct BadRequest : std::invalid_argument {
    using std::invalid_argument::invalid_argument;
};

// Limits on what a request may ask for; each 400 message names the one it hits.
inline constexpr size_t kMaxBodyBytes = 64 * 1024;    // a request body
inline constexpr size_t kMaxPromptBytes = 16 * 1024;  // a prompt's text (tokens: at most block_size)
inline constexpr int64_t kMaxNewTokens = 256;         // tokens per generate request
inline constexpr int64_t kTopCandidates = 20;         // bars in the next-token view
// The largest answer a model view sends: a request whose answer would be larger (every head's attention
// at a long prompt on a large model) is refused with HTTP 413 naming this limit and what to ask for
// instead (forward_view's "layers" and "heads"), before the work is done; forward_view with "fit": true
// sends what fits instead (whole matrices, in the page's order) and says "truncated".
inline constexpr size_t kMaxResponseBytes = 8 * 1024 * 1024;
// gpt serve's connections (serve/server.cpp): worker threads, and how long it waits for a client.
inline constexpr int kServeThreads = 64;
inline constexpr int kReadTimeoutSeconds = 5;
inline constexpr int kWriteTimeoutSeconds = 10;
inline constexpr int kRequestDeadlineSeconds = 10;  // from accept to the whole request (headers and body) read
inline constexpr size_t kMaxRequestBytes = kMaxBodyBytes + 64 * 1024;  // request line, headers and body

// A request whose answer would exceed kMaxResponseBytes: HTTP 413.
struct ResponseTooLarge : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// `records`: the run's metrics so far (serve/metrics_follower.h); empty for a run that has not logged yet.
nlohmann::json training_view(const std::string& run_name, const std::vector<MetricsRecord>& records, int64_t since = 0);
nlohmann::json model_view(const LoadedCheckpoint& checkpoint);
// `cache` (optional): the checkpoint's kept forward (serve/forward_cache.h), reused when the prompt is the same.
nlohmann::json forward_view(const LoadedCheckpoint& checkpoint, const nlohmann::json& request, ForwardCache* cache = nullptr);
nlohmann::json generate_view(const LoadedCheckpoint& checkpoint, const nlohmann::json& request);
nlohmann::json backprop_view(const LoadedCheckpoint& checkpoint, const nlohmann::json& request);

// model = transformer (serve/api_translate.cpp). translate_forward_view's request: "source" (text, 1..
// source_block_size tokens), "target" (text, at most target_block_size − 1 tokens; absent or null: the
// greedy translation, sent as "translation"), "position" (a decoder position, default the last),
// "layers" (indices into the deeper stack), "heads", "fit" as forward_view's. translate_view's: "source",
// "beam" (1 = greedy), "length_penalty", "max_new_tokens".
nlohmann::json model_view(const LoadedEncoderDecoder& checkpoint);
nlohmann::json translate_forward_view(const LoadedEncoderDecoder& checkpoint, const nlohmann::json& request);
nlohmann::json translate_view(const LoadedEncoderDecoder& checkpoint, const nlohmann::json& request);

}  // namespace gpt
