// `gpt prepare`: corpus -> tokenizer -> token ids -> train.bin / val.bin (data/token_file.h).
//
// The ids of all documents are concatenated in name order, with the <|endoftext|> id between
// documents when the tokenizer has one; the last val_fraction of them is the validation split.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "data/tokenizer.h"

namespace gpt {

struct PrepareOptions {
    std::filesystem::path input;       // a text file or a folder of them (data/corpus.h)
    std::filesystem::path output_dir;  // receives train.bin and val.bin; created if missing
    std::string tokenizer_type = "bpe";  // "char" | "bpe" | "gpt2"; ignored when tokenizer is given
    std::filesystem::path tokenizer_files;  // gpt2 only: folder with encoder.json + vocab.bpe (or vocab.json + merges.txt)
    int32_t vocab_size = 4096;           // bpe only: 256 bytes + merges + <|endoftext|>
    std::shared_ptr<const Tokenizer> tokenizer;  // use this one instead of training
    // Appended to the tokenizer (trained or given) as special tokens before the text is encoded, unless
    // it has them already (with_special_tokens): a masked LM's [PAD], [CLS], [SEP], [MASK].
    std::vector<std::string> added_special_tokens;
    double val_fraction = 0.1;                   // in [0, 1)
    int64_t block_size = 256;  // each non-empty split needs at least block_size + 1 tokens
    bool end_of_text_between_documents = true;
    bool allow_special_in_text = false;  // encode literal "<|endoftext|>" in the text as the special token
    bool replace_invalid_utf8 = false;   // char only: invalid UTF-8 becomes U+FFFD instead of an error
    bool progress = true;                // one line per stage on stderr
};

struct PreparedData {
    std::shared_ptr<const Tokenizer> tokenizer;
    std::filesystem::path train_path, val_path;
    int64_t train_tokens = 0, val_tokens = 0;
    int64_t corpus_bytes = 0;
    int64_t documents = 0;
    double train_seconds = 0.0;   // tokenizer training (0 when one was given)
    double encode_seconds = 0.0;
};

PreparedData prepare_corpus(const PrepareOptions& options);

struct Corpus;
// The tokenizer prepare_corpus trains (char, bpe) or reads (gpt2) for a corpus, from tokenizer_type,
// tokenizer_files, vocab_size, replace_invalid_utf8 and the end-of-text rule above; the other fields are
// not read. Also the encoder–decoder's, on its parallel corpus (train/encoder_decoder_training.h).
// Throws std::invalid_argument naming the file or option.
std::shared_ptr<const Tokenizer> make_tokenizer(const PrepareOptions& options, const Corpus& corpus);

// Encodes a large text in parallel chunks (OpenMP), cut only where the pre-split has a boundary for
// every tokenizer (after a '\n' followed by an ASCII non-space byte), so the result equals encode(text).
std::vector<int32_t> encode_parallel(const Tokenizer& tokenizer, std::string_view text, const EncodeOptions& options = {});

}  // namespace gpt
