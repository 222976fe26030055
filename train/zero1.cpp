#include "train/zero1.h"

#include <algorithm>
#include <cstring>

namespace gpt {

namespace {

int64_t total_numel(const NamedTensors& parameters) {
    int64_t total = 0;
    for (const auto& [name, tensor] : parameters) total += tensor.numel();
    return total;
}

int64_t shard_floats(const NamedTensors& parameters, int ranks) {
    return (total_numel(parameters) + ranks - 1) / ranks;
}

// `flat` (the owned range, padded to S floats) from every rank, laid end to end: N·S floats, of which
// the first P are the whole parameter vector.
std::vector<float> all_gather_floats(Communicator& comm, std::vector<float> mine, int64_t S) {
    mine.resize(static_cast<size_t>(S), 0.0f);
    const std::vector<std::byte> bytes = comm.all_gather(std::as_bytes(std::span<const float>(mine)));
    std::vector<float> all(bytes.size() / sizeof(float));
    std::memcpy(all.data(), bytes.data(), bytes.size());
    return all;
}

}  // namespace

AdamWShard zero1_shard(const NamedTensors& parameters, int ranks, int rank) {
    const int64_t P = total_numel(parameters), S = shard_floats(parameters, ranks);
    const int64_t begin = std::min<int64_t>(rank * S, P);
    return {begin, std::min(begin + S, P)};
}

void all_gather_weights(Communicator& comm, const NamedTensors& parameters, const AdamWShard& shard) {
    std::vector<float> mine;
    mine.reserve(static_cast<size_t>(shard.end - shard.begin));
    int64_t offset = 0;
    for (const auto& [name, tensor] : parameters) {
        const int64_t first = std::clamp(shard.begin - offset, int64_t(0), tensor.numel());
        const int64_t last = std::clamp(shard.end - offset, int64_t(0), tensor.numel());
        mine.insert(mine.end(), tensor.data() + first, tensor.data() + last);
        offset += tensor.numel();
    }
    const std::vector<float> all = all_gather_floats(comm, std::move(mine), shard_floats(parameters, comm.size()));
    const float* in = all.data();
    for (const auto& [name, tensor] : parameters) {
        std::copy(in, in + tensor.numel(), tensor.data());
        in += tensor.numel();
    }
}

AdamWState gather_optimizer_state(Communicator& comm, const AdamW& optimizer, const NamedTensors& parameters) {
    std::vector<float> m, v;
    for (const auto& [name, tensor] : parameters) {
        const std::vector<float>& pm = optimizer.first_moment(name);
        const std::vector<float>& pv = optimizer.second_moment(name);
        m.insert(m.end(), pm.begin(), pm.end());
        v.insert(v.end(), pv.begin(), pv.end());
    }
    const int64_t S = shard_floats(parameters, comm.size());
    const std::vector<float> all_m = all_gather_floats(comm, std::move(m), S);
    const std::vector<float> all_v = all_gather_floats(comm, std::move(v), S);
    AdamWState state;
    state.step = optimizer.step_count();
    size_t offset = 0;
    for (const auto& [name, tensor] : parameters) {
        const size_t n = static_cast<size_t>(tensor.numel());
        state.moments[name] = {std::vector<float>(all_m.begin() + offset, all_m.begin() + offset + n),
                               std::vector<float>(all_v.begin() + offset, all_v.begin() + offset + n)};
        offset += n;
    }
    return state;
}

void sum_update_norms(Communicator& comm, std::vector<AdamWUpdateNorm>& norms) {
    std::vector<double> mine;
    for (const AdamWUpdateNorm& n : norms) {
        mine.push_back(n.update_sq);
        mine.push_back(n.weight_sq);
    }
    const std::vector<std::byte> bytes = comm.all_gather(std::as_bytes(std::span<const double>(mine)));
    std::vector<double> all(bytes.size() / sizeof(double));
    std::memcpy(all.data(), bytes.data(), bytes.size());
    for (size_t k = 0; k < norms.size(); ++k) {
        double update_sq = 0.0, weight_sq = 0.0;
        for (int r = 0; r < comm.size(); ++r) {
            update_sq += all[static_cast<size_t>(r) * mine.size() + 2 * k];
            weight_sq += all[static_cast<size_t>(r) * mine.size() + 2 * k + 1];
        }
        norms[k].update_sq = update_sq;
        norms[k].weight_sq = weight_sq;
    }
}

}  // namespace gpt
