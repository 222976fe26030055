#include "serve/model_store.h"

#include <stdexcept>
#include <system_error>

#include <sys/stat.h>

namespace gpt {

FileStamp stamp_of(const std::filesystem::path& file) {
    struct stat info {};
    if (::stat(file.c_str(), &info) != 0)
        throw std::runtime_error(file.string() + ": " + std::generic_category().message(errno));
    return {static_cast<uintmax_t>(info.st_ino),
            static_cast<int64_t>(info.st_mtim.tv_sec) * 1000000000 + info.st_mtim.tv_nsec,
            static_cast<uintmax_t>(info.st_size)};
}

ModelStore::Entry& ModelStore::get(const std::string& run_name, const std::filesystem::path& file) {
    const FileStamp stamp = stamp_of(file);
    auto it = entries_.find(run_name);
    if (it != entries_.end() && it->second.stamp == stamp) return it->second;
    const std::string kind = checkpoint_model_kind(file.string());
    std::shared_ptr<LoadedCheckpoint> checkpoint;
    std::shared_ptr<LoadedEncoderDecoder> encoder_decoder;
    if (kind == "transformer") {
        encoder_decoder = std::make_shared<LoadedEncoderDecoder>(load_encoder_decoder(file.string()));
        encoder_decoder->model->eval();
    } else {
        checkpoint = std::make_shared<LoadedCheckpoint>(load_checkpoint(file.string()));
        checkpoint->model->eval();
    }
    Entry& entry = entries_[run_name];
    entry.kind = kind == "transformer" ? kind : checkpoint->model_config.bidirectional() ? "bert" : "gpt";
    entry.checkpoint = std::move(checkpoint);
    entry.encoder_decoder = std::move(encoder_decoder);
    entry.stamp = stamp;
    entry.forward_cache = ForwardCache();  // the old checkpoint's forward is not this one's
    ++entry.loads;
    return entry;
}

}  // namespace gpt
