#include "train/train_step.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

#include "optim/adamw_in_backward.h"
#include "optim/clip.h"
#include "train/zero1.h"

namespace gpt {

namespace {

std::string describe_nonfinite(double loss, const std::string& bad_parameter) {
    if (!std::isfinite(loss)) {
        char buffer[64];
        std::snprintf(buffer, sizeof buffer, "%.4f", loss);
        return std::string("the loss is ") + buffer;
    }
    return "the gradient of " + bad_parameter + " is not finite";
}

// The next micro-batch's loss (train/training_model.h), `settings.block_size` positions per sequence.
Tensor next_batch_loss(const StepContext& state, const StepSettings& settings) {
    return state.model.next_batch_loss(settings.block_size, state.dropout_generator);
}

// This rank's micro-batches of the step (train_step.h): backward of loss/(N·A) for each; the others'
// draws are skipped. With N·A > 1 the gradients are summed in `state.gradients` (the parameters'
// gradients are left zeroed). Returns the sum of this rank's micro-batch losses.
double accumulate_gradients(const StepContext& state, const StepSettings& settings) {
    const int64_t ranks = state.comm.size(), rank = state.comm.rank(), A = settings.grad_accum;
    const int64_t micro_batches = ranks * A;
    double loss_sum = 0.0;
    for (int64_t k = 0; k < micro_batches; ++k) {
        if (k / A != rank) {
            state.model.skip_batch();
            continue;
        }
        Tensor loss = next_batch_loss(state, settings);
        loss_sum += loss.item();
        if (micro_batches > 1) loss = mul_scalar(loss, 1.0f / static_cast<float>(micro_batches));
        loss.backward();
        if (micro_batches > 1) state.gradients.take(state.parameters, k == rank * A);
    }
    return loss_sum;
}

// Ranks > 1: each rank checks its own loss and gradients before the sum (after it, a NaN would be on
// every rank and the one that produced it unknown); the first bad rank's description goes to all.
// Returns "" when every rank is finite.
std::string agree_nonfinite(const StepContext& state, double local_loss, std::string* bad_parameter) {
    const std::string local_bad = state.gradients.first_nonfinite(state.parameters);
    const int local_flag = std::isfinite(local_loss) && local_bad.empty() ? 0 : 1;
    const std::vector<int> flags = gather_values(state.comm, local_flag);
    const auto first_bad = std::find(flags.begin(), flags.end(), 1);
    if (first_bad == flags.end()) return "";
    const int bad_rank = static_cast<int>(first_bad - flags.begin());
    std::string text = bad_rank == state.comm.rank() ? describe_nonfinite(local_loss, local_bad) + '\n' + local_bad : "";
    std::vector<std::byte> bytes(reinterpret_cast<const std::byte*>(text.data()),
                                 reinterpret_cast<const std::byte*>(text.data()) + text.size());
    state.comm.broadcast(bytes, bad_rank);
    text.assign(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    const size_t newline = text.find('\n');
    *bad_parameter = text.substr(newline + 1);
    return text.substr(0, newline) + " on rank " + std::to_string(bad_rank);
}

// Ranks > 1: the mean loss over all N·A micro-batches, summed in rank order (as one process sums its
// micro-batches), and the gradients summed across ranks. False when a rank was not finite.
// comm_seconds times the gradient sum alone: the small gathers before it wait for the slowest rank, so
// the ranks enter it together and the time is the transfer and the additions, not load imbalance.
bool reduce_across_ranks(const StepContext& state, StepResult& result) {
    result.nonfinite = agree_nonfinite(state, result.loss, &result.bad_parameter);
    if (!result.nonfinite.empty()) return false;
    double loss_sum = 0.0;
    for (double rank_loss : gather_values(state.comm, result.loss)) loss_sum += rank_loss;
    result.loss = loss_sum;
    const auto start = std::chrono::steady_clock::now();
    state.comm.sum_in_rank_order(state.gradients.flat());
    result.comm_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return true;
}

double global_norm(const std::vector<double>& squares) {
    double total = 0.0;
    for (double s : squares) total += s;
    return std::sqrt(total);
}

NamedValues gradient_norms(const NamedTensors& parameters, const std::vector<double>& squares) {
    NamedValues norms;
    for (size_t k = 0; k < parameters.size(); ++k) norms.emplace_back(parameters[k].first, std::sqrt(squares[k]));
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

// settings.optimizer_in_backward (optim/adamw_in_backward.h): one micro-batch on one rank, no clipping
// (TrainConfig::validate and the trainer refuse the rest). Each parameter is updated as soon as backward
// completes its gradient; a non-finite loss is caught before backward (nothing changes), a non-finite
// gradient half-way leaves the parameters before it updated (result.nonfinite says so; the trainer stops).
StepResult step_with_update_in_backward(const StepContext& state, const StepSettings& settings) {
    StepResult result;
    for (const auto& [name, tensor] : state.parameters) tensor.release_grad();  // a missing gradient: no update
    Tensor loss = next_batch_loss(state, settings);
    result.loss = loss.item();
    if (!std::isfinite(result.loss)) {
        result.nonfinite = describe_nonfinite(result.loss, "");
        return result;
    }
    AdamWInBackward fused(state.optimizer, settings.measure);
    loss.backward();
    AdamWInBackwardResult outcome = fused.finish();
    result.grad_norm = outcome.grad_norm;
    if (!outcome.taken) {
        result.bad_parameter = outcome.bad_parameter;
        result.partly_applied = outcome.updated > 0;
        result.nonfinite = describe_nonfinite(result.loss, outcome.bad_parameter) + " (optimizer_in_backward: " +
                           std::to_string(outcome.updated) + " parameters were already updated)";
        return result;
    }
    if (settings.measure) {
        for (size_t k = 0; k < outcome.grad_norms.size(); ++k)
            result.grad_norms.emplace_back(state.optimizer.parameter_name(k), outcome.grad_norms[k]);
        result.update_ratios = update_ratios(outcome.update_norms);
    }
    return result;
}

// The parameters AdamW updates, in its order (all of them, or those Muon does not take).
NamedTensors adamw_parameters(const AdamW& optimizer) {
    NamedTensors parameters;
    for (size_t k = 0; k < optimizer.parameter_count(); ++k)
        parameters.emplace_back(optimizer.parameter_name(k), optimizer.parameter(k));
    return parameters;
}

}  // namespace

StepResult train_step(const StepContext& state, const StepSettings& settings) {
    state.optimizer.set_lr(settings.lr);
    if (state.muon) state.muon->set_lr(settings.muon_lr);
    if (settings.optimizer_in_backward) return step_with_update_in_backward(state, settings);
    StepResult result;
    std::vector<Tensor> tensors;  // AdamW's and Muon's
    for (const auto& [name, tensor] : state.parameters) tensors.push_back(tensor);
    zero_grads(tensors);
    result.loss = accumulate_gradients(state, settings);  // this rank's sum, for now
    const int64_t micro_batches = state.comm.size() * settings.grad_accum;
    if (state.comm.size() > 1 && !reduce_across_ranks(state, result)) return result;
    if (micro_batches > 1) state.gradients.give_back(state.parameters);
    result.loss /= static_cast<double>(micro_batches);
    // One pass over the gradients before AdamW's: Σ g² per parameter (0 without a gradient), in list
    // order, gives the global norm (the same sums added in the same order as grad_norm(), so the same
    // double), finite exactly when every gradient is (optim/clip.h), and on log steps the per-parameter
    // norms of the report's gradient-flow view. Only a failed step looks for the parameter to name.
    const std::vector<double> squares = gradient_sums_of_squares(state.parameters);
    result.grad_norm = global_norm(squares);
    if (!std::isfinite(result.loss) || !std::isfinite(result.grad_norm)) {
        result.bad_parameter = first_nonfinite_gradient(state.parameters);
        result.nonfinite = describe_nonfinite(result.loss, result.bad_parameter);
        return result;
    }
    if (settings.measure) result.grad_norms = gradient_norms(state.parameters, squares);
    const float clip = clip_scale(result.grad_norm, settings.grad_clip);  // applied inside AdamW's pass
    if (settings.measure) {
        std::vector<AdamWUpdateNorm> norms;
        state.optimizer.step(norms, clip);
        if (settings.zero1) sum_update_norms(state.comm, norms);
        if (state.muon) {
            std::vector<AdamWUpdateNorm> muon_norms;
            state.muon->step(clip, &muon_norms);
            norms.insert(norms.end(), muon_norms.begin(), muon_norms.end());
        }
        result.update_ratios = update_ratios(norms);
    } else {
        state.optimizer.step(clip);
        if (state.muon) state.muon->step(clip);
    }
    if (settings.zero1) {  // the sharded AdamW's parameters (Muon's matrices are updated on every rank)
        const auto start = std::chrono::steady_clock::now();
        all_gather_weights(state.comm, state.muon ? adamw_parameters(state.optimizer) : state.parameters, settings.shard);
        result.comm_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }
    return result;
}

}  // namespace gpt
