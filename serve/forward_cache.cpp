#include "serve/forward_cache.h"

#include "autograd/tensor.h"

namespace gpt {

RecordedForward record_forward(const GPT& model, const std::vector<int32_t>& ids) {
    NoGradGuard no_grad;
    RecordedForward out;
    out.ids = ids;
    out.probe.record_attention = true;
    out.probe.record_activations = true;
    out.hidden = model.hidden(ids, 1, static_cast<int64_t>(ids.size()), &out.probe);
    return out;
}

int64_t recorded_bytes(const RecordedForward& forward) {
    int64_t numbers = forward.hidden.numel() + (forward.probe.embedding.defined() ? forward.probe.embedding.numel() : 0);
    auto add = [&numbers](const Tensor& t) { numbers += t.defined() ? t.numel() : 0; };
    for (const Tensor& p : forward.probe.attention) add(p);
    for (const BlockActivations& a : forward.probe.activations) {
        for (const Tensor* t : {&a.attn_in, &a.attn_out, &a.residual_mid, &a.mlp_in, &a.fc, &a.gelu, &a.mlp_out, &a.out}) add(*t);
        for (const Tensor* t : {&a.attention.qkv, &a.attention.heads, &a.attention.latent}) add(*t);
    }
    return numbers * static_cast<int64_t>(sizeof(float));
}

std::shared_ptr<const RecordedForward> ForwardCache::get(const GPT& model, const std::vector<int32_t>& ids) {
    if (kept_ && kept_->ids == ids) {
        ++hits_;
        return kept_;
    }
    ++misses_;
    auto forward = std::make_shared<const RecordedForward>(record_forward(model, ids));
    kept_ = recorded_bytes(*forward) <= kMaxCachedForwardBytes ? forward : nullptr;
    return forward;
}

}  // namespace gpt
