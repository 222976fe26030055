// Learning-rate schedules, as nanoGPT's get_lr(it) (it = 0-based index of the step about to be taken):
//   it < warmup_iters          lr · (it + 1) / (warmup_iters + 1)            linear warm-up
//   it > lr_decay_iters        min_lr
//   otherwise                  min_lr + ½(1 + cos(π·r))·(lr − min_lr),  r = (it − warmup_iters) / (lr_decay_iters − warmup_iters)
// When lr_decay_iters == warmup_iters the cosine phase is empty: from there on it is min_lr (r = 1).
// Or constant: lr at every step (nanoGPT's decay_lr = False).
#pragma once

#include <cstdint>

namespace gpt {

class LrSchedule {
public:
    static LrSchedule constant(double lr);
    // Requires lr > 0, 0 <= min_lr <= lr, 0 <= warmup_iters <= lr_decay_iters (std::invalid_argument otherwise).
    static LrSchedule warmup_cosine(double lr, double min_lr, int64_t warmup_iters, int64_t lr_decay_iters);

    double lr_at(int64_t it) const;  // it >= 0

    bool is_constant() const { return constant_; }
    double max_lr() const { return lr_; }
    double min_lr() const { return min_lr_; }
    int64_t warmup_iters() const { return warmup_iters_; }
    int64_t lr_decay_iters() const { return lr_decay_iters_; }

private:
    LrSchedule() = default;
    bool constant_ = true;
    double lr_ = 0.0;
    double min_lr_ = 0.0;
    int64_t warmup_iters_ = 0;
    int64_t lr_decay_iters_ = 0;
};

}  // namespace gpt
