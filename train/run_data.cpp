#include "train/run_data.h"

#include <algorithm>
#include <string>
#include <vector>

#include "data/masked_lm.h"
#include "data/prepare.h"

namespace gpt {
namespace fs = std::filesystem;

RunTokens prepare_run_data(const TrainConfig& config, const fs::path& out_dir,
                         std::shared_ptr<const Tokenizer> given_tokenizer, bool reuse_existing) {
    const fs::path train_path = out_dir / "train.bin", val_path = out_dir / "val.bin";
    if (reuse_existing && given_tokenizer && fs::exists(train_path) && fs::exists(val_path)) {
        TokenFile train(train_path), val(val_path);
        if (train.vocab_size() == given_tokenizer->vocab_size() && val.vocab_size() == given_tokenizer->vocab_size())
            return RunTokens{given_tokenizer, std::move(train), std::move(val)};
    }
    PrepareOptions options;
    options.input = config.data;
    options.output_dir = out_dir;
    options.tokenizer_type = config.tokenizer;
    options.tokenizer_files = config.tokenizer_files;
    options.vocab_size = static_cast<int32_t>(config.vocab_size);
    options.tokenizer = given_tokenizer;
    if (config.model_kind == "bert") options.added_special_tokens = masked_lm_token_names();
    options.val_fraction = config.val_fraction;
    options.block_size = config.model.block_size;
    options.replace_invalid_utf8 = config.invalid_utf8 == "replace";
    PreparedData prepared;
    try {
        prepared = prepare_corpus(options);
    } catch (const std::bad_alloc&) {
        throw std::runtime_error("corpus " + config.data + ": out of memory while reading and tokenizing it");
    }
    return RunTokens{prepared.tokenizer, TokenFile(prepared.train_path), TokenFile(prepared.val_path)};
}

}  // namespace gpt
