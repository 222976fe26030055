// libFuzzer target: tokenizer round trips on arbitrary bytes.
//   byte-level BPE: decode(encode(x)) == x for every byte string x (it encodes any bytes);
//   char: text the vocabulary covers round-trips; anything else throws std::invalid_argument, never crashes;
//   decode of arbitrary ids either throws (out of range) or returns bytes.
// Both tokenizers are trained once on a fixed text, so the fuzzer explores encode/decode, not training.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "data/bpe_trainer.h"
#include "data/char_tokenizer.h"

namespace {

const std::string kTrainingText =
    "The quick brown fox jumps over the lazy dog. Ünïcödé: ½ € 日本語 🙂\n"
    "To be, or not to be, that is the question: whether 'tis nobler in the mind to suffer\n";

struct Tokenizers {
    std::unique_ptr<gpt::CharTokenizer> chars = gpt::CharTokenizer::train(kTrainingText);
    std::unique_ptr<gpt::BpeTokenizer> bpe = [] {
        gpt::BpeTrainOptions options;
        options.vocab_size = 300;
        options.min_pair_count = 1;
        return gpt::train_bpe(kTrainingText, options);
    }();
};

void require(bool condition, const char* what) {
    if (!condition) {
        std::fprintf(stderr, "round trip broken: %s\n", what);
        std::abort();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const Tokenizers tokenizers;
    const std::string text(reinterpret_cast<const char*>(data), size);

    const std::vector<int32_t> bpe_ids = tokenizers.bpe->encode(text);
    require(tokenizers.bpe->decode(bpe_ids) == text, "bpe decode(encode(x)) != x");
    gpt::EncodeOptions special;
    special.allow_special = true;
    require(tokenizers.bpe->decode(tokenizers.bpe->encode(text, special)) == text, "bpe with specials");

    try {
        const std::vector<int32_t> char_ids = tokenizers.chars->encode(text);
        require(tokenizers.chars->decode(char_ids) == text, "char decode(encode(x)) != x");
    } catch (const std::invalid_argument&) {
        // a character outside the vocabulary, or invalid UTF-8: refused, as documented
    }

    // The same bytes read as ids: decode must check every one.
    std::vector<int32_t> ids(size / 4);
    if (!ids.empty()) std::memcpy(ids.data(), data, ids.size() * 4);
    for (const gpt::Tokenizer* tokenizer : {static_cast<const gpt::Tokenizer*>(tokenizers.chars.get()),
                                            static_cast<const gpt::Tokenizer*>(tokenizers.bpe.get())}) {
        try {
            (void)tokenizer->decode(ids);
        } catch (const std::invalid_argument&) {
        } catch (const std::out_of_range&) {
        }
    }
    return 0;
}
