// Cross-entropy over logits with integer targets: log-softmax and negative log-likelihood fused, so the
// [N, V] probabilities are never stored (llm.c crossentropy_softmax_backward, without its probs buffer).
//
// logits [..., V] viewed as [N, V]; targets[n] in [0, V) or ignore_index. With lse_n = log Σ_v exp(l[n,v]):
//   loss = (1/N_valid) Σ_{n valid} (lse_n − l[n, targets[n]])              → shape []
//   dL/dl[n,v] = dloss · (exp(l[n,v] − lse_n) − [v == targets[n]]) / N_valid   (0 for ignored rows)
// With label smoothing ε (PyTorch's label_smoothing=, Szegedy et al. 2016) the target distribution is
// (1 − ε)·onehot + ε/V, so a valid row's loss and gradient become
//   loss_n = (1 − ε)(lse_n − l[n, t]) + ε·(lse_n − (1/V) Σ_v l[n, v])
//   dL/dl[n,v] = dloss · (exp(l[n,v] − lse_n) − (1 − ε)[v == t] − ε/V) / N_valid
// (ε = 0 runs exactly the unsmoothed arithmetic.)
// Saved for backward: the logits' values and lse per row, N floats; the softmax is recomputed from the
// logits straight into their gradient. If every row is ignored the loss is 0 and the gradient stays zero.
// When nothing else holds the logits (a training step), the gradient is written over them
// (Grads::reuse_for_input): one [N, V] buffer for both instead of two.
#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "autograd/ops.h"
#include "autograd/kernels/kernels.h"
#include "autograd/ops/parallel.h"
#include "autograd/profile.h"

namespace gpt {

Tensor cross_entropy(const Tensor& logits, const std::vector<int32_t>& targets, int32_t ignore_index,
                     float label_smoothing) {
    profile::Scope profile_scope("cross_entropy");
    check(label_smoothing >= 0.0f && label_smoothing <= 1.0f, "cross_entropy",
          "label_smoothing " + std::to_string(label_smoothing) + " is outside [0, 1]");
    const float eps = label_smoothing;
    check(logits.defined() && logits.dim() >= 1, "cross_entropy", "logits must have at least one axis");
    const int64_t V = logits.size(-1);
    check(V > 0, "cross_entropy", "vocabulary axis is empty in logits " + shape_str(logits.shape()));
    const int64_t N = logits.numel() / V;
    check(static_cast<int64_t>(targets.size()) == N, "cross_entropy",
          "logits " + shape_str(logits.shape()) + " have " + std::to_string(N) + " rows but " +
              std::to_string(targets.size()) + " targets were given");
    int64_t valid = 0;
    for (int64_t n = 0; n < N; ++n) {
        const int32_t target = targets[static_cast<size_t>(n)];
        if (target == ignore_index) continue;
        check(target >= 0 && target < V, "cross_entropy",
              "target " + std::to_string(target) + " at row " + std::to_string(n) + " is outside [0, V) with V = " +
                  std::to_string(V) + " (ignore_index " + std::to_string(ignore_index) + ")");
        ++valid;
    }

    // lse and per-row losses in separate buffers; the mean is summed serially in double afterwards so it
    // does not depend on how rows were split between threads.
    Tensor lse = Tensor::empty({N});
    std::vector<float> row_loss(static_cast<size_t>(N), 0.0f);
    const float* l = logits.data();
    float* lse_out = lse.data();
#pragma omp parallel for schedule(static) if (N * V >= kParallelMinComputeBound)
    for (int64_t n = 0; n < N; ++n) {
        const int32_t target = targets[static_cast<size_t>(n)];
        if (target == ignore_index) continue;
        const float* row = l + n * V;
        float max = row[0];
        for (int64_t v = 1; v < V; ++v) max = row[v] > max ? row[v] : max;
        // vectorised per ISA (autograd/kernels): a fixed lane order, so the same result on every run
        const float sum = kernels::table().row_sum_exp(row, V, max);
        const float row_lse = max + std::log(sum);
        lse_out[n] = row_lse;
        float loss_n = row_lse - row[target];
        if (eps > 0.0f) {
            double sum_l = 0.0;  // in double, serially: the same bits for any thread count
            for (int64_t v = 0; v < V; ++v) sum_l += row[v];
            const float uniform = row_lse - static_cast<float>(sum_l / static_cast<double>(V));
            loss_n = (1.0f - eps) * loss_n + eps * uniform;
        }
        row_loss[static_cast<size_t>(n)] = loss_n;
    }
    double total = 0.0;
    for (float r : row_loss) total += r;
    Tensor loss = Tensor::scalar(valid > 0 ? static_cast<float>(total / static_cast<double>(valid)) : 0.0f);

    if (!needs_grad({&logits})) return loss;
    auto saved_targets = std::make_shared<const std::vector<int32_t>>(targets);
    record(loss, "cross_entropy", {logits},
           [lv_saved = logits.detach(), lse, saved_targets, ignore_index, eps, N, V, valid](const Grads& grads) {
        if (valid == 0) {
            grads.input(0);  // all rows ignored: the gradient exists and is zero
            return;
        }
        float* const in_place = grads.reuse_for_input(0, lv_saved);
        float* dl = in_place ? in_place : grads.input(0);
        if (!dl) return;
        const float scale = grads.out[0] / static_cast<float>(valid);
        const float* lv = lv_saved.data();
        const float* lse_v = lse.data();
        const std::vector<int32_t>& tg = *saved_targets;
#pragma omp parallel if (N * V >= kParallelMinComputeBound)
        {
            std::vector<float> row_copy(in_place ? static_cast<size_t>(V) : 0);  // this thread's
#pragma omp for schedule(static)
            for (int64_t n = 0; n < N; ++n) {
                const int32_t target = tg[static_cast<size_t>(n)];
                float* grad_row = dl + n * V;
                const float* row = lv + n * V;
                if (in_place) {  // the row is its own gradient's buffer: read it out, then add into zeros
                    std::copy(row, row + V, row_copy.begin());
                    std::fill(grad_row, grad_row + V, 0.0f);
                    row = row_copy.data();
                }
                if (target == ignore_index) continue;
                kernels::table().row_add_scaled_exp(row, V, lse_v[n], scale, grad_row);
                if (eps == 0.0f) {
                    grad_row[target] -= scale;
                    continue;
                }
                const float spread = scale * eps / static_cast<float>(V);
                for (int64_t v = 0; v < V; ++v) grad_row[v] -= spread;
                grad_row[target] -= scale * (1.0f - eps);
            }
        }
    });
    return loss;
}

}  // namespace gpt
