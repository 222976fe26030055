#include "autograd/tensor.h"

#include <omp.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "autograd/profile.h"
#include "autograd/storage_cache.h"

namespace gpt {

std::string shape_str(const Shape& shape) {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i) {
        if (i) s += ", ";
        s += std::to_string(shape[i]);
    }
    return s + "]";
}

int64_t shape_numel(const Shape& shape) {
    int64_t n = 1;
    for (int64_t d : shape) {
        if (d < 0) throw std::invalid_argument("shape: negative dimension in " + shape_str(shape));
        n *= d;
    }
    return n;
}

void check(bool condition, const char* op_name, const std::string& message) {
    if (!condition) throw std::invalid_argument(std::string(op_name) + ": " + message);
}

Storage::Storage(int64_t n) : data(storage_cache_acquire(n)), size(n) {}
Storage::~Storage() { storage_cache_release(data, size); }  // never allocates (see storage_cache.h)

// ---- factories --------------------------------------------------------------------------------

Tensor Tensor::empty(const Shape& shape, bool requires_grad) {
    auto impl = std::make_shared<TensorImpl>();
    impl->shape = shape;
    impl->numel = shape_numel(shape);
    impl->storage = std::make_shared<Storage>(impl->numel);
    Tensor t(std::move(impl));
    t.set_requires_grad(requires_grad);
    return t;
}

Tensor Tensor::zeros(const Shape& shape, bool requires_grad) { return full(shape, 0.0f, requires_grad); }

Tensor Tensor::full(const Shape& shape, float value, bool requires_grad) {
    Tensor t = empty(shape, requires_grad);
    std::fill_n(t.data(), t.numel(), value);
    return t;
}

Tensor Tensor::from_vector(const Shape& shape, const std::vector<float>& values, bool requires_grad) {
    check(static_cast<int64_t>(values.size()) == shape_numel(shape), "from_vector",
          std::to_string(values.size()) + " values do not fill shape " + shape_str(shape));
    Tensor t = empty(shape, requires_grad);
    std::copy(values.begin(), values.end(), t.data());
    return t;
}

// ---- accessors --------------------------------------------------------------------------------

const Shape& Tensor::shape() const { return impl_->shape; }
int64_t Tensor::dim() const { return static_cast<int64_t>(impl_->shape.size()); }
int64_t Tensor::numel() const { return impl_->numel; }

int64_t Tensor::size(int64_t axis) const {
    const int64_t d = dim();
    const int64_t a = axis < 0 ? axis + d : axis;
    check(a >= 0 && a < d, "size", "axis " + std::to_string(axis) + " out of range for shape " + shape_str(shape()));
    return impl_->shape[static_cast<size_t>(a)];
}

float* Tensor::data() const { return impl_->data(); }

float Tensor::item() const {
    check(numel() == 1, "item", "tensor of shape " + shape_str(shape()) + " is not a single value");
    return data()[0];
}

std::vector<float> Tensor::to_vector() const { return std::vector<float>(data(), data() + numel()); }

AutogradMeta& TensorImpl::autograd_meta() {
    if (!autograd) {
        autograd = std::make_shared<AutogradMeta>();
        autograd->shape = shape;
        autograd->numel = numel;
    }
    return *autograd;
}

namespace {

// Gradient buffers are zeroed before backward adds into them: every step zeroes all the parameters'
// gradients (GPT-2 124M: 495 MB) and each intermediate's. Large buffers are zeroed by all threads (one
// memset alone, the other threads waiting, was ~2 % of a small model's step); not inside a parallel
// region (one pool, no nesting).
constexpr int64_t kZeroChunk = int64_t(1) << 16;  // 256 KB per task

void zero_floats(float* data, int64_t n) {
    if (n < 4 * kZeroChunk || omp_in_parallel()) {
        std::memset(data, 0, sizeof(float) * static_cast<size_t>(n));
        return;
    }
    const int64_t chunks = (n + kZeroChunk - 1) / kZeroChunk;
#pragma omp parallel for schedule(static)
    for (int64_t c = 0; c < chunks; ++c)
        std::memset(data + c * kZeroChunk, 0,
                    sizeof(float) * static_cast<size_t>(std::min(kZeroChunk, n - c * kZeroChunk)));
}

}  // namespace

float* AutogradMeta::grad_buffer() {
    if (!grad) {
        grad = std::make_shared<Storage>(numel);
        zero_floats(grad->data, numel);
    }
    return grad->data;
}

bool Tensor::requires_grad() const { return impl_->autograd && impl_->autograd->requires_grad; }

void Tensor::set_requires_grad(bool requires_grad) {
    if (requires_grad || impl_->autograd) impl_->autograd_meta().requires_grad = requires_grad;
}

float* Tensor::grad() const { return impl_->autograd && impl_->autograd->grad ? impl_->autograd->grad->data : nullptr; }

float* Tensor::grad_buffer() const { return impl_->autograd_meta().grad_buffer(); }

Tensor Tensor::grad_tensor() const {
    Tensor g = zeros(shape());
    if (const float* d = grad()) std::copy_n(d, numel(), g.data());
    return g;
}

void Tensor::zero_grad() const {
    if (float* d = grad()) zero_floats(d, numel());
}

// The buffers cut into the chunks zero_floats uses, every tensor's chunks in one list that the threads
// share: a GPT's 50–150 parameters took one memset each on one thread where they were small (all 52 of
// `baby`'s: 0.2 ms of its 1.2–1.8 ms serial time per step, bench/amdahl.py) and one region each where
// they were large.
void zero_grads(const std::vector<Tensor>& tensors) {
    std::vector<std::pair<float*, int64_t>> chunks;
    int64_t total = 0;
    for (const Tensor& t : tensors) {
        float* d = t.grad();
        if (!d) continue;
        const int64_t n = t.numel();
        for (int64_t i = 0; i < n; i += kZeroChunk) chunks.emplace_back(d + i, std::min(kZeroChunk, n - i));
        total += n;
    }
    const int64_t count = static_cast<int64_t>(chunks.size());
#pragma omp parallel for schedule(static) if (total >= 4 * kZeroChunk && !omp_in_parallel())
    for (int64_t c = 0; c < count; ++c) {
        const auto& [data, n] = chunks[static_cast<size_t>(c)];
        std::memset(data, 0, sizeof(float) * static_cast<size_t>(n));
    }
}

void Tensor::release_grad() const {
    if (impl_->autograd) impl_->autograd->grad.reset();
}

const std::shared_ptr<Node>& Tensor::grad_fn() const {
    static const std::shared_ptr<Node> none;
    return impl_->autograd ? impl_->autograd->grad_fn : none;
}

Tensor Tensor::detach() const {
    auto impl = std::make_shared<TensorImpl>();
    impl->shape = impl_->shape;
    impl->numel = impl_->numel;
    impl->storage = impl_->storage;
    impl->offset = impl_->offset;
    return Tensor(std::move(impl));
}

Tensor Tensor::clone() const {
    Tensor t = empty(shape());
    std::copy_n(data(), numel(), t.data());
    return t;
}

Tensor Tensor::view(const Shape& new_shape) const {
    Shape resolved = new_shape;
    int64_t known = 1;
    int64_t infer_axis = -1;
    for (size_t i = 0; i < resolved.size(); ++i) {
        if (resolved[i] == -1) {
            check(infer_axis < 0, "view", "more than one -1 in " + shape_str(new_shape));
            infer_axis = static_cast<int64_t>(i);
        } else {
            check(resolved[i] >= 0, "view", "negative dimension in " + shape_str(new_shape));
            known *= resolved[i];
        }
    }
    if (infer_axis >= 0) {
        check(known > 0 && numel() % known == 0, "view",
              "cannot view " + shape_str(shape()) + " as " + shape_str(new_shape));
        resolved[static_cast<size_t>(infer_axis)] = numel() / known;
    }
    check(shape_numel(resolved) == numel(), "view",
          "cannot view " + shape_str(shape()) + " (" + std::to_string(numel()) + " values) as " + shape_str(new_shape));
    Tensor t = detach();
    t.impl_->shape = resolved;
    return t;
}

// ---- the tape ---------------------------------------------------------------------------------

namespace {
thread_local bool grad_mode_enabled = true;
}

bool grad_enabled() { return grad_mode_enabled; }
NoGradGuard::NoGradGuard() : previous_(grad_mode_enabled) { grad_mode_enabled = false; }
NoGradGuard::~NoGradGuard() { grad_mode_enabled = previous_; }

bool needs_grad(std::initializer_list<const Tensor*> inputs) {
    if (!grad_mode_enabled) return false;
    for (const Tensor* t : inputs)
        if (t->defined() && t->requires_grad()) return true;
    return false;
}

float* Grads::input(size_t k) const {
    AutogradMeta* meta = node.inputs[k].get();
    return meta && meta->requires_grad ? meta->grad_buffer() : nullptr;
}

GradTarget Grads::target(size_t k) const {
    AutogradMeta* meta = node.inputs[k].get();
    if (!meta || !meta->requires_grad) return {};
    if (meta->grad) return {meta->grad->data, false};
    meta->grad = std::make_shared<Storage>(meta->numel);
    return {meta->grad->data, true};
}

float* Grads::reuse_for_input(size_t k, const Tensor& saved) const {
    AutogradMeta* meta = node.inputs[k].get();
    TensorImpl* impl = saved.impl();
    if (!meta || !meta->requires_grad || meta->grad || !impl || impl->offset != 0 || impl->numel != meta->numel ||
        impl->storage->size != meta->numel || impl->storage.use_count() != 1)
        return nullptr;
    meta->grad = impl->storage;  // shared with `saved` until the closure is dropped
    return meta->grad->data;
}

void record(Tensor& out, const char* op_name, const std::vector<Tensor>& inputs,
            std::function<void(const Grads&)> backward) {
    auto node = std::make_shared<Node>();
    node->op_name = op_name;
    for (const Tensor& input : inputs) {
        if (!input.defined()) {
            node->inputs.push_back(nullptr);
            continue;
        }
        input.impl()->autograd_meta();  // a constant gets one too: the graph drawing shows it (train/graph.cpp)
        node->inputs.push_back(input.impl()->autograd);
    }
    node->backward = std::move(backward);
    AutogradMeta& meta = out.impl()->autograd_meta();
    meta.grad_fn = std::move(node);
    meta.requires_grad = true;
}

void record_pair(Tensor& out, Tensor& second, const char* op_name, const std::vector<Tensor>& inputs,
                 std::function<void(const Grads&)> backward) {
    record(out, op_name, inputs, std::move(backward));
    record(second, op_name, {out}, [](const Grads&) {});  // no formula: out's closure reads this gradient
    second.grad_fn()->hands_gradient_on = true;
    out.grad_fn()->second = second.impl()->autograd;
}

namespace {

// Every tensor reachable from `root` through grad_fn/inputs that has a node, each after the tensors it
// was computed from (iterative post-order DFS: a deep GPT tape would overflow a recursive one on small
// stacks). Throws, before any gradient is touched, on a node whose closure an earlier backward ran.
std::vector<AutogradMeta*> topological_order(AutogradMeta* root) {
    std::vector<AutogradMeta*> order;
    std::unordered_set<AutogradMeta*> visited{root};
    std::vector<std::pair<AutogradMeta*, size_t>> stack{{root, 0}};
    while (!stack.empty()) {
        auto& [meta, next_input] = stack.back();
        Node* node = meta->grad_fn.get();
        if (node && next_input == 0)
            check(static_cast<bool>(node->backward), node->op_name,
                  "trying to backward through the graph a second time: the first backward freed the values "
                  "this op's gradient reads; run the forward again to build a new graph");
        if (node && next_input < node->inputs.size()) {
            AutogradMeta* child = node->inputs[next_input++].get();
            if (child && child->grad_fn && visited.insert(child).second) stack.push_back({child, 0});
            continue;
        }
        order.push_back(meta);
        stack.pop_back();
    }
    return order;
}

// Leaves with an on_gradient_ready hook → how many inputs of the graph's nodes name them (a node that
// takes the leaf twice counts twice). The hook runs when the count reaches zero.
std::unordered_map<AutogradMeta*, int> pending_leaf_uses(const std::vector<AutogradMeta*>& order) {
    std::unordered_map<AutogradMeta*, int> pending;
    for (AutogradMeta* meta : order)
        if (const Node* node = meta->grad_fn.get())
            for (const auto& input : node->inputs)
                if (input && !input->grad_fn && input->on_gradient_ready) ++pending[input.get()];
    return pending;
}

void notify_ready_leaves(const Node& node, std::unordered_map<AutogradMeta*, int>& pending) {
    if (pending.empty()) return;
    for (const auto& input : node.inputs) {
        const auto it = input ? pending.find(input.get()) : pending.end();
        if (it != pending.end() && --it->second == 0) input->on_gradient_ready();
    }
}

}  // namespace

void Tensor::backward() {
    check(numel() == 1, "backward", "needs a one-element tensor (a loss), got shape " + shape_str(shape()));
    backward(full(shape(), 1.0f));
}

void Tensor::backward(const Tensor& grad_output) {
    check(requires_grad(), "backward", "tensor does not require grad (was it computed under NoGradGuard?)");
    check(grad_output.shape() == shape(), "backward",
          "grad_output shape " + shape_str(grad_output.shape()) + " differs from tensor shape " + shape_str(shape()));
    AutogradMeta* root = impl_->autograd.get();
    const std::vector<AutogradMeta*> order = topological_order(root);
    std::unordered_map<AutogradMeta*, int> pending = pending_leaf_uses(order);

    float* seed = root->grad_buffer();
    const float* g = grad_output.data();
    for (int64_t i = 0; i < numel(); ++i) seed[i] += g[i];
    for (auto it = order.rbegin(); it != order.rend(); ++it) {
        AutogradMeta* meta = *it;
        Node* node = meta->grad_fn.get();
        if (!node) continue;  // a leaf
        // An op with two outputs: the second's gradient, complete (its node has run), read here, then freed.
        const std::shared_ptr<AutogradMeta> second = node->second.lock();
        const float* second_grad = second && second->grad ? second->grad->data : nullptr;
        // A second output's node runs no formula (its gradient is read by the first's): not run, not timed.
        if ((meta->grad || second_grad) && !node->hands_gradient_on) {  // else nothing flowed into this branch
            profile::Scope timer(node->op_name, "backward");
            node->backward(Grads{meta->grad ? meta->grad->data : nullptr, *node, second_grad});
        }
        // Dropping the closure frees its saved values now, not when the graph dies: lower peak memory.
        node->backward = nullptr;
        notify_ready_leaves(*node, pending);
        // An intermediate's gradient is dead once propagated: free it now to halve peak memory (unless
        // someone asked to read it: retain_grad, e.g. gpt serve's gradient w.r.t. the input embeddings).
        if (meta != root && !meta->retain_grad && !node->hands_gradient_on) meta->grad.reset();
        if (second && second.get() != root && !second->retain_grad) second->grad.reset();
    }
}

}  // namespace gpt
