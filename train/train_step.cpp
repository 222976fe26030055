#include "train/train_step.h"

#include <cmath>
#include <cstdio>

#include "optim/clip.h"

namespace gpt {

namespace {

// grad_accum × [batch → forward → loss/grad_accum → backward]; returns the mean loss.
double accumulate_gradients(const StepState& state, const StepSettings& settings) {
    double loss_sum = 0.0;
    for (int64_t micro = 0; micro < settings.grad_accum; ++micro) {
        const Batch batch = state.sampler.next_batch();
        const Tensor logits =
            state.model.forward(batch.inputs, settings.batch_size, settings.block_size, state.dropout_generator);
        Tensor loss = GPT::loss(logits, batch.targets);
        loss_sum += loss.item();
        if (settings.grad_accum > 1) loss = mul_scalar(loss, 1.0f / static_cast<float>(settings.grad_accum));
        loss.backward();
    }
    return loss_sum / static_cast<double>(settings.grad_accum);
}

std::string describe_nonfinite(double loss, const std::string& bad_parameter) {
    if (!std::isfinite(loss)) {
        char buffer[64];
        std::snprintf(buffer, sizeof buffer, "%.4f", loss);
        return std::string("the loss is ") + buffer;
    }
    return "the gradient of " + bad_parameter + " is not finite";
}

// Per-parameter gradient norms for the report's gradient-flow view.
NamedValues gradient_norms(const NamedTensors& parameters) {
    NamedValues norms;
    for (const auto& [name, tensor] : parameters) {
        const float* g = tensor.grad();
        double sum = 0.0;
        if (g)
            for (int64_t i = 0; i < tensor.numel(); ++i) sum += static_cast<double>(g[i]) * g[i];
        norms.emplace_back(name, std::sqrt(sum));
    }
    return norms;
}

// ‖w_after − w_before‖ / ‖w_before‖ per parameter: the size of one AdamW update relative to the
// weight (Karpathy's rule of thumb: around 1e-3 is healthy).
NamedValues update_ratios(const std::vector<AdamWUpdateNorm>& norms) {
    NamedValues ratios;
    for (const AdamWUpdateNorm& n : norms)
        ratios.emplace_back(n.name, n.weight_sq > 0.0 ? std::sqrt(n.update_sq / n.weight_sq) : 0.0);
    return ratios;
}

}  // namespace

StepResult train_step(const StepState& state, const StepSettings& settings) {
    StepResult result;
    state.optimizer.set_lr(settings.lr);
    state.optimizer.zero_grad();
    result.loss = accumulate_gradients(state, settings);
    // (data-parallel training: all-reduce the gradients here)
    result.bad_parameter = first_nonfinite_gradient(state.parameters);
    if (!std::isfinite(result.loss) || !result.bad_parameter.empty()) {
        result.nonfinite = describe_nonfinite(result.loss, result.bad_parameter);
        return result;
    }
    if (settings.measure) result.grad_norms = gradient_norms(state.parameters);
    result.grad_norm = clip_grad_norm(state.parameters, settings.grad_clip);
    if (settings.measure) {
        std::vector<AdamWUpdateNorm> norms;
        state.optimizer.step(norms);
        result.update_ratios = update_ratios(norms);
    } else {
        state.optimizer.step();
    }
    return result;
}

}  // namespace gpt
