// The benchmark's model shapes and its data, shared by gpt_bench's train mode. The PyTorch side
// (bench/reference_train.py) repeats the same table and the same batch formula, so both train the
// same model on the same tokens.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace gpt::bench {

struct BenchShape {
    std::string name;
    int64_t n_layer, n_head, n_embd, block_size, batch_size;
    float dropout;
    int64_t vocab_size = 256;  // the data are bytes; gpt2 pads GPT-2's 50257 to 50304 (a multiple of 64)
};

// baby: the default config's shape; small: nanoGPT's shakespeare_char shape.
BenchShape bench_shape(const std::string& name);

// Byte-level tokens (V = 256) of a text file: no tokenizer in the measured path, identical on both sides.
constexpr int64_t kVocab = 256;
std::vector<int32_t> read_bytes(const std::string& path);

// Row b of step s starts at ((s·B + b)·104729) mod (len − T − 1): inputs are T bytes from there,
// targets the same window shifted by one.
void make_batch(const std::vector<int32_t>& data, int64_t step, int64_t B, int64_t T, std::vector<int32_t>& inputs,
                std::vector<int32_t>& targets);

// Model FLOPs per trained token (forward + backward), nanoGPT's estimate: 6·N + 12·L·C·T, with N the
// parameters used in matmuls and elementwise work (all but the position table) and 12·L·C·T the
// attention scores and their weighted sum (forward 2·2·C·T per layer, backward twice that; the causal
// half that is skipped is counted, as nanoGPT and PaLM do).
double flops_per_token(const BenchShape& shape, int64_t parameters_without_wpe);

}  // namespace gpt::bench
