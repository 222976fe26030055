#include "train/rank_agreement.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

namespace gpt {

void broadcast_weights(Communicator& comm, const NamedTensors& parameters) {
    if (comm.size() == 1) return;
    std::vector<std::byte> bytes;
    if (comm.rank() == 0)
        for (const auto& [name, tensor] : parameters) {
            const auto* first = reinterpret_cast<const std::byte*>(tensor.data());
            bytes.insert(bytes.end(), first, first + tensor.numel() * sizeof(float));
        }
    comm.broadcast(bytes, 0);
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
