// Data-parallel runs: rank 0 prepares the token files (train/run_data.cpp) into the run folder and
// sends its tokenizer to the other ranks, which wait for it and then memory-map the same files. The
// run folder must therefore be reachable at the same path from every rank (one machine, or a shared
// file system; README "Several processes").
#include <cstring>
#include <optional>
#include <string>
#include <stdexcept>

#include "train/run_data.h"

namespace gpt {
namespace fs = std::filesystem;

namespace {

// TokenizerState as bytes: the type, then each vector as its length (uint64) and elements.
class Packer {
public:
    template <class T>
    void vector(const std::vector<T>& values) {
        const uint64_t n = values.size();
        append(&n, sizeof n);
        append(values.data(), n * sizeof(T));
    }
    void string(const std::string& text) {
        const uint64_t n = text.size();
        append(&n, sizeof n);
        append(text.data(), text.size());
    }
    void append(const void* data, size_t size) {
        const auto* first = static_cast<const std::byte*>(data);
        bytes.insert(bytes.end(), first, first + size);
    }
    std::vector<std::byte> bytes;
};

class Unpacker {
public:
    explicit Unpacker(const std::vector<std::byte>& bytes) : bytes_(bytes) {}
    template <class T>
    std::vector<T> vector() {
        uint64_t n = 0;
        take(&n, sizeof n);
        if (n > (bytes_.size() - offset_) / sizeof(T)) throw std::runtime_error("tokenizer from rank 0 is truncated");
        std::vector<T> values(static_cast<size_t>(n));
        take(values.data(), values.size() * sizeof(T));
        return values;
    }

    std::string string() {
        uint64_t n = 0;
        take(&n, sizeof n);
        if (n > bytes_.size() - offset_) throw std::runtime_error("tokenizer from rank 0 is truncated");
        std::string text(static_cast<size_t>(n), '\0');
        take(text.data(), text.size());
        return text;
    }

private:
    void take(void* out, size_t size) {
        if (size > bytes_.size() - offset_) throw std::runtime_error("tokenizer from rank 0 is truncated");
        if (size > 0) std::memcpy(out, bytes_.data() + offset_, size);  // an empty vector's data() may be null
        offset_ += size;
    }
    const std::vector<std::byte>& bytes_;
    size_t offset_ = 0;
};

std::vector<std::byte> pack(const TokenizerState& state) {
    Packer packer;
    packer.string(state.type);
    packer.vector(state.token_bytes);
    packer.vector(state.token_offsets);
    packer.vector(state.merges);
    packer.vector(state.special_ids);
    return std::move(packer.bytes);
}

TokenizerState unpack(const std::vector<std::byte>& bytes) {
    Unpacker unpacker(bytes);
    TokenizerState state;
    state.type = unpacker.string();
    state.token_bytes = unpacker.vector<uint8_t>();
    state.token_offsets = unpacker.vector<int64_t>();
    state.merges = unpacker.vector<int32_t>();
    state.special_ids = unpacker.vector<int32_t>();
    return state;
}

}  // namespace

RunTokens share_run_data(Communicator& comm, const fs::path& out_dir, const std::function<RunTokens()>& prepare) {
    if (comm.size() == 1) return prepare();
    std::vector<std::byte> bytes;
    std::optional<RunTokens> data;
    if (comm.rank() == 0) {
        data = prepare();
        bytes = pack(data->tokenizer->state());
    }
    comm.broadcast(bytes, 0);  // the other ranks wait here until the token files are written
    if (data) return std::move(*data);
    std::shared_ptr<const Tokenizer> tokenizer = Tokenizer::from_state(unpack(bytes));
    TokenFile train(out_dir / "train.bin"), val(out_dir / "val.bin");
    if (train.vocab_size() != tokenizer->vocab_size())
        throw std::runtime_error((out_dir / "train.bin").string() + ": vocabulary " + std::to_string(train.vocab_size()) +
                                 " differs from rank 0's tokenizer (" + std::to_string(tokenizer->vocab_size()) +
                                 "); is the run folder the same on every machine?");
    return RunTokens{std::move(tokenizer), std::move(train), std::move(val)};
}

}  // namespace gpt
