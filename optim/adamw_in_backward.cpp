#include "optim/adamw_in_backward.h"

#include <cmath>

#include "optim/clip.h"

namespace gpt {

AdamWInBackward::AdamWInBackward(AdamW& optimizer, bool measure)
    : optimizer_(optimizer), measure_(measure), sums_(optimizer.parameter_count(), 0.0) {
    if (measure_) result_.update_norms.resize(optimizer.parameter_count());
    for (size_t k = 0; k < optimizer_.parameter_count(); ++k) {
        if (measure_) result_.update_norms[k].name = optimizer_.parameter_name(k);
        optimizer_.parameter(k).impl()->autograd_meta().on_gradient_ready = [this, k] { on_ready(k); };
    }
}

AdamWInBackward::~AdamWInBackward() {
    for (size_t k = 0; k < optimizer_.parameter_count(); ++k)
        optimizer_.parameter(k).impl()->autograd_meta().on_gradient_ready = nullptr;
}

// Parameter k's gradient is complete: keep its share of the norm (one pass, which is also the check: it
// is finite exactly when every element is, optim/clip.h), update, free the gradient. After a non-finite
// gradient nothing more is updated (the step is lost; the trainer stops).
void AdamWInBackward::on_ready(size_t k) {
    const Tensor& p = optimizer_.parameter(k);
    if (const float* g = p.grad(); g && result_.bad_parameter.empty()) {
        sums_[k] = gradient_sum_of_squares(g, p.numel());
        if (!std::isfinite(sums_[k])) {
            result_.bad_parameter = optimizer_.parameter_name(k);
            sums_[k] = 0.0;  // the reported norm covers the parameters checked before it
        } else {
            optimizer_.update_parameter(k, measure_ ? &result_.update_norms[k] : nullptr);
            result_.updated += 1;
        }
    }
    p.release_grad();
}

AdamWInBackwardResult AdamWInBackward::finish() {
    double total = 0.0;
    for (double s : sums_) total += s;
    result_.grad_norm = std::sqrt(total);
    if (measure_)
        for (double s : sums_) result_.grad_norms.push_back(std::sqrt(s));
    result_.taken = result_.bad_parameter.empty();
    if (result_.taken) optimizer_.finish_step();
    return result_;
}

}  // namespace gpt
