// gpt_bench's attention modes (docs/attention.md): the KV-cache table and cached decoding speed.
#pragma once

#include <map>
#include <string>

namespace gpt::bench {

// kv_table: KV-cache bytes per token of MHA, GQA, MQA and MLA at this project's `small` shape and at
//   DeepSeek-V3's dimensions, by formula and as allocated by KVCache, as a Markdown table on stdout.
// Times are CPU seconds of the process (run with --threads 1: then they are the code's own cost, whatever
// else the machine runs).
// decode --checkpoint FILE --context L [--steps N] [--threads T]: fills the cache with L − N tokens,
//   then times N single-token steps (positions L − N .. L − 1); one JSON line with tokens_per_s. An L
//   past the checkpoint's block_size times the same shape with block_size L and random weights.
//   best_tokens_per_s: from the fastest step.
// train_time --checkpoint FILE [--batch B] [--steps N]: forward + backward of that shape on B×block_size
//   random tokens, N steps after 2 warm-up steps; the fastest and the median step in ms.
int run_attention_bench(const std::string& mode, const std::map<std::string, std::string>& args);

}  // namespace gpt::bench
