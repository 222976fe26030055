// What a run's configuration asks of the optimizer and of the learning-rate schedule.
#pragma once

#include <algorithm>
#include <string>

#include "common/text.h"

#include "optim/adamw.h"
#include "optim/muon.h"
#include "optim/schedule.h"
#include "train/config.h"

namespace gpt {

// Warm-up then cosine to min_lr at lr_decay_iters (0: the end of the run), or constant. The decay end
// is never before the warm-up ends, so a short run (--max_iters 50 with warm-up 100) still works.
// Trapezoidal: warm-up, lr, then the linear decay over the last decay_fraction of the same end.
inline LrSchedule make_schedule(const TrainConfig& config) {
    if (config.lr_schedule == "constant") return LrSchedule::constant(config.lr);
    const int64_t decay_end = std::max(config.lr_decay_iters > 0 ? config.lr_decay_iters : config.max_iters,
                                       config.warmup_iters);
    if (config.lr_schedule == "trapezoidal")
        return LrSchedule::trapezoidal(config.lr, config.effective_min_lr(), config.warmup_iters, decay_end,
                                       config.decay_fraction);
    return LrSchedule::warmup_cosine(config.lr, config.effective_min_lr(), config.warmup_iters, decay_end);
}

inline AdamWOptions adamw_options(const TrainConfig& config) {
    AdamWOptions options;
    options.lr = static_cast<float>(config.lr);
    options.beta1 = static_cast<float>(config.beta1);
    options.beta2 = static_cast<float>(config.beta2);
    options.weight_decay = static_cast<float>(config.weight_decay);
    return options;
}

inline MuonOptions muon_options(const TrainConfig& config) {
    MuonOptions options;
    options.lr = static_cast<float>(config.muon_lr);
    options.momentum = static_cast<float>(config.muon_momentum);
    options.nesterov = config.muon_nesterov;
    options.ns_steps = config.muon_ns_steps;
    options.ns_a = static_cast<float>(config.muon_ns_a);
    options.ns_b = static_cast<float>(config.muon_ns_b);
    options.ns_c = static_cast<float>(config.muon_ns_c);
    options.weight_decay = static_cast<float>(config.muon_weight_decay);
    return options;
}

// The parameters of each optimizer: with optimizer = muon, Muon takes the blocks' matrices (muon_takes)
// and AdamW the rest; otherwise AdamW takes all. Each list keeps the model's order.
struct OptimizerGroups {
    NamedTensors adamw;
    NamedTensors muon;
};
inline OptimizerGroups optimizer_groups(const TrainConfig& config, const NamedTensors& parameters) {
    OptimizerGroups groups;
    for (const auto& named : parameters)
        (config.optimizer == "muon" && muon_takes(named.first, named.second.shape()) ? groups.muon : groups.adamw)
            .push_back(named);
    return groups;
}

// The banner's words for the optimizer state: "Muon for N matrices (P parameters), AdamW for the rest, "
// with optimizer = muon, and with several ranks the AdamW moments each holds (sharded with ZeRO-1).
inline std::string describe_optimizer_state(const OptimizerGroups& groups, bool muon, int ranks, bool zero1) {
    auto count = [](const NamedTensors& tensors) {
        int64_t n = 0;
        for (const auto& named : tensors) n += named.second.numel();
        return n;
    };
    std::string text;
    if (muon)
        text += "Muon for " + std::to_string(groups.muon.size()) + " matrices (" + std::to_string(count(groups.muon)) +
                " parameters), AdamW for the rest, ";
    if (ranks > 1) {
        const double moments_mib = 8.0 * static_cast<double>(count(groups.adamw)) / (1024.0 * 1024.0);
        text += zero1 ? "ZeRO-1: AdamW moments " + format_fixed(moments_mib / ranks, 1) + " MiB per rank (" +
                            format_fixed(moments_mib, 1) + " unsharded), "
                      : "AdamW moments " + format_fixed(moments_mib, 1) + " MiB per rank, ";
    }
    return text;
}

}  // namespace gpt
