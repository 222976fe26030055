// The last recorded forward of one loaded checkpoint, kept for the next request about the same prompt.
// The page asks for a prompt's stage views and bars first and its maps next, and a slider (temperature,
// top-k, top-p, penalty), another chosen token, head or stage changes nothing the forward computed: such
// a request reuses the forward instead of running it again (on GPT-2 124M's shape a 64-token forward
// takes most of a second on two cores). One prompt per checkpoint, kept only when its tensors take at
// most kMaxCachedForwardBytes. Not thread-safe: the server holds its model mutex around every use, and
// the model store starts a new cache when it reloads the checkpoint (serve/model_store.h).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "nn/gpt.h"

namespace gpt {

inline constexpr int64_t kMaxCachedForwardBytes = int64_t{256} << 20;

// One prompt through GPT::hidden with the attention probabilities and every block's activations recorded.
struct RecordedForward {
    std::vector<int32_t> ids;
    ForwardProbe probe;
    Tensor hidden;  // the last block's output [1, T, C], before ln_f
};

// The forward of `ids` (batch 1, no dropout, no gradient), recorded.
RecordedForward record_forward(const GPT& model, const std::vector<int32_t>& ids);

// Bytes of the recorded tensors (views of one storage counted each time: an upper bound).
int64_t recorded_bytes(const RecordedForward& forward);

class ForwardCache {
public:
    // record_forward(model, ids), or the kept one when the last call asked for the same ids. The cache
    // belongs to one loaded checkpoint: `model` is always that checkpoint's.
    std::shared_ptr<const RecordedForward> get(const GPT& model, const std::vector<int32_t>& ids);
    int64_t hits() const { return hits_; }
    int64_t misses() const { return misses_; }

private:
    std::shared_ptr<const RecordedForward> kept_;
    int64_t hits_ = 0, misses_ = 0;
};

}  // namespace gpt
