#include "autograd/gradcheck.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "common/random.h"

namespace gpt {

GradcheckResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& f, std::vector<Tensor> inputs,
                          const GradcheckOptions& options) {
    Generator generator(options.seed);
    Tensor first = f(inputs);
    Tensor probe = Tensor::empty(first.shape());
    for (int64_t i = 0; i < probe.numel(); ++i) probe.data()[i] = static_cast<float>(generator.normal());

    auto probed_loss = [&]() {
        NoGradGuard no_grad;
        Tensor out = f(inputs);
        double total = 0.0;
        for (int64_t i = 0; i < out.numel(); ++i) total += static_cast<double>(out.data()[i]) * probe.data()[i];
        return total;
    };

    for (Tensor& x : inputs)
        if (x.requires_grad()) x.zero_grad();
    check(first.requires_grad(), "gradcheck", "the output does not require grad: no input requires grad?");
    first.backward(probe);

    GradcheckResult result;
    for (size_t k = 0; k < inputs.size(); ++k) {
        Tensor& x = inputs[k];
        if (!x.requires_grad()) continue;
        const Tensor analytic = x.grad_tensor();
        float* values = x.data();
        for (int64_t i = 0; i < x.numel(); ++i) {
            const float saved = values[i];
            values[i] = static_cast<float>(saved + options.epsilon);
            const double plus = probed_loss();
            values[i] = static_cast<float>(saved - options.epsilon);
            const double minus = probed_loss();
            values[i] = saved;
            const double numeric = (plus - minus) / (2.0 * options.epsilon);
            const double a = analytic.data()[i];
            const double abs_error = std::fabs(a - numeric);
            const double rel_error = abs_error / std::max({std::fabs(a), std::fabs(numeric), options.abs_floor});
            result.max_abs_error = std::max(result.max_abs_error, abs_error);
            if (rel_error > result.max_rel_error) {
                result.max_rel_error = rel_error;
                std::ostringstream where;
                where << "input " << k << " element " << i << ": analytic " << a << " numeric " << numeric;
                result.worst = where.str();
            }
        }
    }
    result.ok = result.max_rel_error <= options.rel_tolerance;
    return result;
}

}  // namespace gpt
