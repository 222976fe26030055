#include "optim/schedule.h"
#include "optim/option_check.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numbers>
#include <stdexcept>
#include <string>

namespace gpt {

namespace {

using detail::num;

void require(bool ok, const std::string& message) { detail::require_option(ok, "LrSchedule", message); }

}  // namespace

LrSchedule LrSchedule::constant(double lr) {
    require(std::isfinite(lr) && lr >= 0.0, "lr must be finite and >= 0, got " + num(lr));
    LrSchedule s;
    s.lr_ = s.min_lr_ = lr;
    return s;
}

LrSchedule LrSchedule::warmup_cosine(double lr, double min_lr, int64_t warmup_iters, int64_t lr_decay_iters) {
    require(std::isfinite(lr) && lr > 0.0, "lr must be finite and > 0, got " + num(lr));
    require(std::isfinite(min_lr) && min_lr >= 0.0 && min_lr <= lr,
            "min_lr must be in [0, lr = " + num(lr) + "], got " + num(min_lr));
    require(warmup_iters >= 0, "warmup_iters must be >= 0, got " + std::to_string(warmup_iters));
    require(lr_decay_iters >= warmup_iters, "lr_decay_iters (" + std::to_string(lr_decay_iters) +
                                                ") must be >= warmup_iters (" + std::to_string(warmup_iters) + ")");
    LrSchedule s;
    s.constant_ = false;
    s.lr_ = lr;
    s.min_lr_ = min_lr;
    s.warmup_iters_ = warmup_iters;
    s.lr_decay_iters_ = lr_decay_iters;
    return s;
}

LrSchedule LrSchedule::trapezoidal(double lr, double min_lr, int64_t warmup_iters, int64_t decay_end,
                                   double decay_fraction) {
    require(decay_fraction > 0.0 && decay_fraction <= 1.0, "decay_fraction must be in (0, 1], got " + num(decay_fraction));
    LrSchedule s = warmup_cosine(lr, min_lr, warmup_iters, decay_end);  // the same checks
    s.trapezoidal_ = true;
    const auto decay_steps = static_cast<int64_t>(std::llround(decay_fraction * static_cast<double>(decay_end)));
    s.decay_start_ = std::max(warmup_iters, decay_end - decay_steps);
    return s;
}

double LrSchedule::lr_at(int64_t it) const {
    require(it >= 0, "lr_at: step must be >= 0, got " + std::to_string(it));
    if (constant_) return lr_;
    if (it < warmup_iters_)
        return lr_ * static_cast<double>(it + 1) / static_cast<double>(warmup_iters_ + 1);
    if (trapezoidal_) {
        if (it < decay_start_) return lr_;
        if (it >= lr_decay_iters_) return min_lr_;
        const double ratio = static_cast<double>(it - decay_start_ + 1) / static_cast<double>(lr_decay_iters_ - decay_start_);
        return lr_ - (lr_ - min_lr_) * ratio;
    }
    if (it > lr_decay_iters_) return min_lr_;
    const int64_t span = lr_decay_iters_ - warmup_iters_;
    const double ratio = span == 0 ? 1.0 : static_cast<double>(it - warmup_iters_) / static_cast<double>(span);
    const double coeff = 0.5 * (1.0 + std::cos(std::numbers::pi * ratio));
    return min_lr_ + coeff * (lr_ - min_lr_);
}

int64_t sequence_length_at(int64_t it, int64_t start, int64_t full, int64_t iters) {
    require(it >= 0, "sequence_length_at: step must be >= 0, got " + std::to_string(it));
    if (start <= 0 || iters <= 0 || it >= iters || start >= full) return full;
    return start + (full - start) * it / iters;
}

}  // namespace gpt
