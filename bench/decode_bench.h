// gpt_bench decode_weights: tokens/s of cached decoding at batch 1 with float32 against bf16 weights
// (nn/gpt.h set_inference_weights), same model, same process, alternating runs.
//
//   gpt_bench decode_weights [--checkpoint FILE] [--context L] [--steps N] [--repeats R] [--threads T]
//
// Without --checkpoint the model is GPT-2 124M's shape (12 layers, 12 heads, C 768, vocab 50257, block
// 1024) with random GPT-2 initialisation: a step's time does not depend on the weights' values. Each run
// fills a fresh KV cache with L − N tokens, then times N single-token steps (positions L − N .. L − 1).
// Runs alternate float32, bf16, bf16, float32, … (R of each) so that a change in the machine's other load
// falls on both. One JSON line per run, then a summary: the median over runs of each format's tokens/s by
// wall time and by process CPU time, and their ratios bf16 / float32.
#pragma once

#include <map>
#include <string>

namespace gpt::bench {

int run_decode_weights(const std::map<std::string, std::string>& args);

}  // namespace gpt::bench
