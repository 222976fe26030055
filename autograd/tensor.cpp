#include "autograd/tensor.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <unordered_set>

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
    impl->requires_grad = requires_grad;
    return Tensor(std::move(impl));
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

bool Tensor::requires_grad() const { return impl_->requires_grad; }
void Tensor::set_requires_grad(bool requires_grad) { impl_->requires_grad = requires_grad; }

float* Tensor::grad() const { return impl_->grad ? impl_->grad->data : nullptr; }

float* Tensor::grad_buffer() const {
    if (!impl_->grad) {
        impl_->grad = std::make_shared<Storage>(impl_->numel);
        std::memset(impl_->grad->data, 0, sizeof(float) * static_cast<size_t>(impl_->numel));
    }
    return impl_->grad->data;
}

Tensor Tensor::grad_tensor() const {
    Tensor g = zeros(shape());
    if (impl_->grad) std::copy_n(impl_->grad->data, numel(), g.data());
    return g;
}

void Tensor::zero_grad() const {
    if (impl_->grad) std::memset(impl_->grad->data, 0, sizeof(float) * static_cast<size_t>(impl_->numel));
}

void Tensor::release_grad() const { impl_->grad.reset(); }

const std::shared_ptr<Node>& Tensor::grad_fn() const { return impl_->grad_fn; }

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

void record(Tensor& out, const char* op_name, std::vector<Tensor> inputs, std::function<void(TensorImpl&)> backward) {
    auto node = std::make_shared<Node>();
    node->op_name = op_name;
    node->inputs = std::move(inputs);
    node->backward = std::move(backward);
    out.impl()->grad_fn = std::move(node);
    out.impl()->requires_grad = true;
}

void Tensor::backward() {
    check(numel() == 1, "backward", "needs a one-element tensor (a loss), got shape " + shape_str(shape()));
    backward(full(shape(), 1.0f));
}

void Tensor::backward(const Tensor& grad_output) {
    check(requires_grad(), "backward", "tensor does not require grad (was it computed under NoGradGuard?)");
    check(grad_output.shape() == shape(), "backward",
          "grad_output shape " + shape_str(grad_output.shape()) + " differs from tensor shape " + shape_str(shape()));

    // Iterative post-order DFS: a deep GPT tape would overflow a recursive one on small stacks.
    std::vector<TensorImpl*> order;
    std::unordered_set<TensorImpl*> visited;
    std::vector<std::pair<TensorImpl*, size_t>> stack{{impl_.get(), 0}};
    visited.insert(impl_.get());
    while (!stack.empty()) {
        auto& [impl, next_input] = stack.back();
        Node* node = impl->grad_fn.get();
        if (node && next_input < node->inputs.size()) {
            TensorImpl* child = node->inputs[next_input++].impl();
            if (child->grad_fn && visited.insert(child).second) stack.push_back({child, 0});
            continue;
        }
        order.push_back(impl);
        stack.pop_back();
    }

    float* seed = grad_buffer();
    const float* g = grad_output.data();
    for (int64_t i = 0; i < numel(); ++i) seed[i] += g[i];
    for (auto it = order.rbegin(); it != order.rend(); ++it) {
        TensorImpl* impl = *it;
        if (!impl->grad || !impl->grad_fn) continue;  // a leaf, or nothing flowed into this branch
        {
            profile::Scope timer(impl->grad_fn->op_name, "backward");
            impl->grad_fn->backward(*impl);
        }
        // An intermediate's gradient is dead once propagated: free it now to halve peak memory.
        if (impl != impl_.get()) impl->grad.reset();
    }
}

}  // namespace gpt
