// Learning-rate schedules, as nanoGPT's get_lr(it) (it = 0-based index of the step about to be taken):
//   it < warmup_iters          lr · (it + 1) / (warmup_iters + 1)            linear warm-up
//   it > lr_decay_iters        min_lr
//   otherwise                  min_lr + ½(1 + cos(π·r))·(lr − min_lr),  r = (it − warmup_iters) / (lr_decay_iters − warmup_iters)
// When lr_decay_iters == warmup_iters the cosine phase is empty: from there on it is min_lr (r = 1).
// Or constant: lr at every step (nanoGPT's decay_lr = False).
// Or trapezoidal (warm-up / stable / decay, "WSD": Hägele et al. 2024): the same linear warm-up, then lr
// for every step before decay_start, then a straight line down to min_lr, which the last step of the
// decay (it = decay_end − 1, the run's last step when decay_end = max_iters) takes:
//   decay_start ≤ it < decay_end   lr − (lr − min_lr)·(it − decay_start + 1) / (decay_end − decay_start)
//   it ≥ decay_end                  min_lr
// with decay_start = max(warmup_iters, decay_end − round(decay_fraction·decay_end)).
//
// Sequence-length warm-up: the context a step trains on (sequence_length_at).
#pragma once

#include <cstdint>

namespace gpt {

class LrSchedule {
public:
    static LrSchedule constant(double lr);
    // Requires lr > 0, 0 <= min_lr <= lr, 0 <= warmup_iters <= lr_decay_iters (std::invalid_argument otherwise).
    static LrSchedule warmup_cosine(double lr, double min_lr, int64_t warmup_iters, int64_t lr_decay_iters);
    // Requires as warmup_cosine, decay_end >= warmup_iters and 0 < decay_fraction <= 1.
    static LrSchedule trapezoidal(double lr, double min_lr, int64_t warmup_iters, int64_t decay_end,
                                  double decay_fraction);

    double lr_at(int64_t it) const;  // it >= 0

    bool is_constant() const { return constant_; }
    bool is_trapezoidal() const { return trapezoidal_; }
    int64_t decay_start() const { return decay_start_; }  // trapezoidal: the first step of the linear decay
    double max_lr() const { return lr_; }
    double min_lr() const { return min_lr_; }
    int64_t warmup_iters() const { return warmup_iters_; }
    int64_t lr_decay_iters() const { return lr_decay_iters_; }

private:
    LrSchedule() = default;
    bool constant_ = true;
    bool trapezoidal_ = false;
    int64_t decay_start_ = 0;
    double lr_ = 0.0;
    double min_lr_ = 0.0;
    int64_t warmup_iters_ = 0;
    int64_t lr_decay_iters_ = 0;
};

// The sequence length step `it` trains on when the context warms up from `start` tokens to `full` over
// `iters` steps: start + ⌊(full − start)·it / iters⌋ for it < iters, full from then on (and always full
// when iters or start is 0). A function of the step alone, so a resumed run continues exactly.
int64_t sequence_length_at(int64_t it, int64_t start, int64_t full, int64_t iters);

}  // namespace gpt
