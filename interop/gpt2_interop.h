// Hugging Face GPT-2 folders in and out of this project's checkpoints.
//
// Import (`gpt import DIR OUT.h5`): DIR/config.json + DIR/model.safetensors of a GPT2LMHeadModel or
// GPT2Model. Names with or without the "transformer." prefix; Hugging Face's Conv1D weights ([in, out])
// are transposed to this project's Linear layout ([out, in]); the attn.bias / attn.masked_bias buffers
// are ignored; lm_head.weight, if present, must equal wte.weight (the head is tied); F32, F16 and BF16
// become float32. The header is validated in full, then every expected tensor's shape against the
// config, before any data is read. The tokenizer comes from DIR (vocab.json + merges.txt or
// encoder.json + vocab.bpe) or from `tokenizer_files`.
//
// Export (`gpt export CKPT --format hf|safetensors OUT_DIR`):
//   hf:          config.json + model.safetensors in GPT2LMHeadModel's names and layout. Refused, naming
//                the field, for a model GPT-2 cannot represent: pos_encoding sinusoidal, n_kv_head !=
//                n_head, bias false, … ; model bert (bidirectional) and transformer (an encoder–decoder).
//   safetensors: model.safetensors with this project's own names and shapes (any model, any kind), the
//                config (with its "model": gpt | bert | transformer) in its __metadata__ and in config.json.
// Both formats add the vocabulary, so the export's ids can be decoded: vocab.json + merges.txt for a
// GPT-2 tokenizer, gpt_cpp_tokenizer.json (every token's bytes as hex, the merges, the special ids) for a
// character-level or BPE one.
#pragma once

#include <filesystem>
#include <string>

namespace gpt {

struct ImportOptions {
    std::filesystem::path tokenizer_files;  // when DIR has no tokenizer files
    int64_t block_size = 0;                 // > 0: keep only the first block_size positions of wpe
    int64_t vocab_pad = 0;                  // > 0: pad wte to a multiple of this (zero rows, masked logits)
    bool overwrite = false;                 // replace OUT even when it is a run's checkpoint (common/output_path.h)
};

// Writes OUT (an HDF5 checkpoint with weights, config and tokenizer); returns a one-line summary.
std::string import_hf_gpt2(const std::filesystem::path& dir, const std::filesystem::path& out,
                           const ImportOptions& options = {});

// format "hf" | "safetensors"; returns a one-line summary.
std::string export_checkpoint(const std::filesystem::path& checkpoint, const std::string& format,
                              const std::filesystem::path& out_dir);

}  // namespace gpt
