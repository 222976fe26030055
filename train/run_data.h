// The token files of a run: prepared into the run folder (train.bin, val.bin) when a run starts,
// reused as they are when it resumes (so a resumed run reads exactly the same ids).
#pragma once

#include <filesystem>
#include <functional>
#include <memory>

#include "data/token_file.h"
#include "data/tokenizer.h"
#include "dist/communicator.h"
#include "train/config.h"

namespace gpt {

struct RunTokens {
    std::shared_ptr<const Tokenizer> tokenizer;
    TokenFile train;
    TokenFile val;
};

// given_tokenizer: the checkpoint's (resume, init_from) or null to train one on the corpus.
RunTokens prepare_run_data(const TrainConfig& config, const std::filesystem::path& out_dir,
                         std::shared_ptr<const Tokenizer> given_tokenizer, bool reuse_existing);

// Data-parallel runs (train/shared_run_data.cpp): rank 0 calls `prepare` and sends its tokenizer to
// the other ranks, which then open out_dir's train.bin and val.bin (same path on every rank). One
// process: prepare().
RunTokens share_run_data(Communicator& comm, const std::filesystem::path& out_dir, const std::function<RunTokens()>& prepare);


}  // namespace gpt
