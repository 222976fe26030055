// The explainer's stage views for one token (serve/api.h forward_view, "stages"): every number a stage of
// the model computed for the token at `position`, read from the forward's own tensors (the ForwardProbe's
// records, nn/gpt.h), as the page's diagram opens them:
//   embedding  the token's row of wte (× token_scale), its position row (learned or sinusoidal; none with
//              rope) and their sum, the first residual stream
//   layer      for one layer: the block's input x, ln_1(x), then per head the token's q, k, v, the row of
//              scores q·k_j/√d over the keys j ≤ position (every j for bert's
//              bidirectional attention), the softmax row (the op's own probabilities)
//              and the weighted sum Σ_j p_j v_j (the op's output); for one head the keys and values of
//              every key it reads (what the weighted sum reads); c_proj's output, the residual, ln_2,
//              c_fc, the activation, the MLP's output and the block's output
//   final      the token's last residual stream (final_input) and ln_f of it (the logits and the
//              sampling steps are the view's "sampling" at the same position)
// The scores are the only numbers not read from a tensor: q·k_j/√d of the op's own q and k in double
// precision (the op never stores them); their softmax equals the op's probabilities (tests/serve).
#pragma once

#include <cstdint>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "nn/gpt.h"

namespace gpt {

struct StageRequest {
    int64_t position = 0;  // the token, 0..T-1
    int64_t layer = 0;     // the layer whose attention and MLP are shown
    int64_t head = 0;      // the head whose keys and values are sent whole
};

// `probe`: the forward of `ids` (B = 1) with record_attention and record_activations.
nlohmann::json token_stages(const GPT& model, const std::vector<int32_t>& ids, const ForwardProbe& probe,
                            const StageRequest& request);

// An upper bound on the bytes of token_stages' answer for T tokens, as check_forward_size counts them.
double token_stages_bytes(const GPTConfig& config, int64_t T);

}  // namespace gpt
