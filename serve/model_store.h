// The checkpoints gpt serve has loaded, one per run, each reloaded when the file on disk changes.
// `gpt train` replaces ckpt.h5 by rename (io/, atomic), so a changed file has a new inode or mtime and a
// half-written file is never seen under that name. Not thread-safe: the server holds one mutex around
// every use of a model (nn/ forwards share the storage cache and the grad mode per thread).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "checkpoint/encoder_decoder_file.h"
#include "checkpoint/model_file.h"
#include "serve/forward_cache.h"

namespace gpt {

// What tells two versions of a file apart without reading it.
struct FileStamp {
    uintmax_t inode = 0;
    int64_t mtime_ns = 0;
    uintmax_t size = 0;
    bool operator==(const FileStamp&) const = default;
};

// Throws std::runtime_error naming the file when it cannot be stat'ed (gone, unreadable).
FileStamp stamp_of(const std::filesystem::path& file);

class ModelStore {
public:
    // One of the two is loaded, by the file's kind (checkpoint_model_kind): a GPT's checkpoint for
    // model = gpt and model = bert, an encoder–decoder's for model = transformer.
    struct Entry {
        std::string kind;  // "gpt", "bert" or "transformer"
        std::shared_ptr<LoadedCheckpoint> checkpoint;           // gpt, bert
        std::shared_ptr<LoadedEncoderDecoder> encoder_decoder;  // transformer
        FileStamp stamp;
        int64_t loads = 0;  // how many times this run's checkpoint was (re)loaded
        ForwardCache forward_cache;  // the last prompt's forward through this checkpoint (a new one per load)
    };

    // The checkpoint at `file`, loaded now if it is new or changed since the last call. The model is in
    // eval mode. Throws std::runtime_error (load_checkpoint's or load_encoder_decoder's message) when it
    // cannot be read.
    Entry& get(const std::string& run_name, const std::filesystem::path& file);

private:
    std::map<std::string, Entry> entries_;
};

}  // namespace gpt
