#include "train/rank_agreement.h"

#include <algorithm>
#include <span>
#include <utility>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

namespace gpt {

namespace {

std::vector<std::string> split_lines(const std::string& text) {
    std::vector<std::string> lines;
    size_t start = 0;
    for (size_t end; (end = text.find('\n', start)) != std::string::npos; start = end + 1)
        lines.push_back(text.substr(start, end - start));
    if (start < text.size()) lines.push_back(text.substr(start));
    return lines;
}

// The resolved configuration as TOML text, `threads` left out (it may differ per machine).
std::string agreed_config_text(const TrainConfig& config) {
    std::string text;
    for (const std::string& line : split_lines(config_to_toml(config)))
        if (!line.empty() && line.rfind("threads ", 0) != 0) text += line + "\n";
    return text;
}

// "n_embd = 16" → ("n_embd", "16").
std::pair<std::string, std::string> key_value(const std::string& line) {
    const size_t eq = line.find(" = ");
    if (eq == std::string::npos) return {line, ""};
    return {line.substr(0, eq), line.substr(eq + 3)};
}

// "n_embd is 16 on rank 0 but 32 on rank 1": the first line (option) that differs; both texts come
// from the one table of options, in one order.
std::string first_difference(const std::string& text0, const std::string& text_r, int r) {
    const std::vector<std::string> lines0 = split_lines(text0), lines_r = split_lines(text_r);
    for (size_t i = 0; i < std::max(lines0.size(), lines_r.size()); ++i) {
        const std::string l0 = i < lines0.size() ? lines0[i] : "", lr = i < lines_r.size() ? lines_r[i] : "";
        if (l0 == lr) continue;
        const auto [k0, v0] = key_value(l0);
        const auto [kr, vr] = key_value(lr);
        return (k0.empty() ? kr : k0) + " is " + v0 + " on rank 0 but " + (k0 == kr ? vr : "(absent)") + " on rank " +
               std::to_string(r);
    }
    return "rank " + std::to_string(r) + " differs";
}

}  // namespace

void check_config_agrees(Communicator& comm, const TrainConfig& config) {
    if (comm.size() == 1) return;
    const std::string text = agreed_config_text(config);
    // Every rank's text, padded to the longest (all_gather moves equal lengths).
    const std::vector<uint64_t> lengths = gather_values(comm, static_cast<uint64_t>(text.size()));
    const size_t longest = *std::max_element(lengths.begin(), lengths.end());
    std::string padded = text;
    padded.resize(longest, '\0');
    const std::vector<std::byte> all = comm.all_gather(std::as_bytes(std::span<const char>(padded)));
    auto text_of = [&](int r) {
        const char* begin = reinterpret_cast<const char*>(all.data()) + static_cast<size_t>(r) * longest;
        return std::string(begin, lengths[static_cast<size_t>(r)]);
    };
    const std::string first = text_of(0);
    for (int r = 1; r < comm.size(); ++r)
        if (const std::string other = text_of(r); other != first)
            throw RanksDisagree("ranks disagree on the training configuration: " + first_difference(first, other, r) +
                                " (start every rank with the same options)");
}

void broadcast_weights(Communicator& comm, const NamedTensors& parameters) {
    if (comm.size() == 1) return;
    std::vector<std::byte> bytes;
    if (comm.rank() == 0)
        for (const auto& [name, tensor] : parameters) {
            const auto* first = reinterpret_cast<const std::byte*>(tensor.data());
            bytes.insert(bytes.end(), first, first + tensor.numel() * sizeof(float));
        }
    comm.broadcast(bytes, 0);
    size_t expected = 0;
    for (const auto& [name, tensor] : parameters) expected += static_cast<size_t>(tensor.numel()) * sizeof(float);
    if (bytes.size() != expected)  // only this rank knows: an error that ends the job (not RanksDisagree)
        throw std::runtime_error("rank " + std::to_string(comm.rank()) + "'s model holds " + std::to_string(expected) +
                                 " bytes of weights but rank 0 sent " + std::to_string(bytes.size()));
    const std::byte* in = bytes.data();
    for (const auto& [name, tensor] : parameters) {
        std::memcpy(tensor.data(), in, static_cast<size_t>(tensor.numel()) * sizeof(float));
        in += tensor.numel() * sizeof(float);
    }
}

bool rank0_decides(Communicator& comm, bool rank0_value) {
    return gather_values(comm, static_cast<int>(rank0_value)).front() != 0;
}

int agreed_stop_signal(Communicator& comm, int local_signal) {
    const std::vector<int> signals = gather_values(comm, local_signal);
    return *std::max_element(signals.begin(), signals.end());
}

void check_ranks_agree(Communicator& comm, const NamedTensors& parameters, const SamplerState& sampler, int64_t step) {
    if (comm.size() == 1) return;
    uint64_t hash = 1469598103934665603ull;  // FNV-1a over the weights' bytes, the sampler state, the step
    const auto mix = [&hash](const void* data, size_t size) {
        for (size_t i = 0; i < size; ++i) hash = (hash ^ static_cast<const unsigned char*>(data)[i]) * 1099511628211ull;
    };
    for (const auto& [name, tensor] : parameters) mix(tensor.data(), static_cast<size_t>(tensor.numel()) * sizeof(float));
    mix(sampler.rng.data(), sizeof sampler.rng);
    mix(&sampler.batches_drawn, sizeof sampler.batches_drawn);
    mix(&step, sizeof step);
    const std::vector<uint64_t> hashes = gather_values(comm, hash);
    for (size_t r = 1; r < hashes.size(); ++r)
        if (hashes[r] != hashes[0])
            throw std::runtime_error("step " + std::to_string(step) + ": rank " + std::to_string(r) +
                                     "'s weights or sampler differ from rank 0's (data-parallel ranks diverged)");
}

}  // namespace gpt
