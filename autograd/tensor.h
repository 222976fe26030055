// Tensor: float32, contiguous, row-major storage with a shape, and — when it requires grad — a gradient
// buffer of the same shape plus the tape node that produced it.
//
// Ownership: a Tensor is a cheap handle (one shared_ptr) to a TensorImpl. The impl shares its Storage,
// so reshape of contiguous data is a view (no copy). Storage comes from a size-bucketed cache
// (autograd/storage.cpp), so a training step that allocates the same shapes every step reuses the same
// buffers instead of going to malloc: the steady state allocates nothing new from the system.
//
// The tape: an op whose inputs need a gradient records a Node on its output (grad_fn). The node keeps
// its inputs alive and holds the backward closure written next to the op's forward. backward() on a
// scalar walks the nodes once in reverse topological order; gradients accumulate (+=).
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

namespace gpt {

using Shape = std::vector<int64_t>;

std::string shape_str(const Shape& shape);  // "[2, 3, 4]"
int64_t shape_numel(const Shape& shape);

// A block of floats, 64-byte aligned, returned to the cache when the last owner lets go.
struct Storage {
    float* data = nullptr;
    int64_t size = 0;  // floats
    explicit Storage(int64_t size);
    ~Storage();
    Storage(const Storage&) = delete;
    Storage& operator=(const Storage&) = delete;
};

struct Node;
struct TensorImpl;

class Tensor {
public:
    Tensor() = default;
    explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

    // Factories. empty() leaves the values uninitialised (every op writes all of its output).
    static Tensor empty(const Shape& shape, bool requires_grad = false);
    static Tensor zeros(const Shape& shape, bool requires_grad = false);
    static Tensor full(const Shape& shape, float value, bool requires_grad = false);
    static Tensor from_vector(const Shape& shape, const std::vector<float>& values, bool requires_grad = false);
    static Tensor scalar(float value, bool requires_grad = false) { return full({}, value, requires_grad); }

    bool defined() const { return impl_ != nullptr; }
    const Shape& shape() const;
    int64_t dim() const;
    int64_t size(int64_t axis) const;  // negative axes count from the end
    int64_t numel() const;

    // A Tensor is a handle: like a pointer, a const handle still gives access to the values, so that
    // backward closures (which capture their inputs by value, hence const) can write gradients.
    float* data() const;
    float item() const;  // the value of a one-element tensor
    std::vector<float> to_vector() const;

    // Gradient: nullptr until something accumulates into it. grad_buffer() allocates it (zeroed).
    bool requires_grad() const;
    void set_requires_grad(bool requires_grad);
    float* grad() const;
    float* grad_buffer() const;
    Tensor grad_tensor() const;  // a copy of the gradient as a tensor (zeros if none yet)
    void zero_grad() const;      // sets an existing gradient to zero, keeps the buffer
    void release_grad() const;   // drops the gradient buffer

    // The node that produced this tensor, or nullptr for leaves and tensors made without a tape.
    const std::shared_ptr<Node>& grad_fn() const;

    // Reverse-mode autodiff from this one-element tensor: seeds d(self)/d(self) = 1 and runs every
    // node reachable from it once, in reverse topological order.
    void backward();
    // Same walk for a tensor of any shape, seeded with dL/d(self) = grad_output (same shape as self).
    void backward(const Tensor& grad_output);

    Tensor detach() const;  // same storage, no tape, no grad
    Tensor clone() const;   // copied storage, no tape
    Tensor view(const Shape& shape) const;  // shares storage; -1 allowed once; NOT recorded on the tape

    TensorImpl* impl() const { return impl_.get(); }
    bool is_same(const Tensor& other) const { return impl_ == other.impl_; }

private:
    std::shared_ptr<TensorImpl> impl_;
};

struct TensorImpl {
    Shape shape;
    int64_t numel = 0;
    std::shared_ptr<Storage> storage;
    int64_t offset = 0;  // in floats, for views into a larger storage
    std::shared_ptr<Storage> grad;
    bool requires_grad = false;
    std::shared_ptr<Node> grad_fn;

    float* data() { return storage->data + offset; }
};

// One recorded operation. `backward(out)` reads out.grad (dL/d out) and accumulates dL/d input into
// each input's gradient. Inputs are held so they outlive the forward; the output is passed in at
// backward time (holding it here would make a reference cycle).
struct Node {
    const char* op_name = "";
    std::vector<Tensor> inputs;
    std::function<void(TensorImpl& out)> backward;
};

// Grad mode: while a NoGradGuard lives (on this thread), ops record nothing.
bool grad_enabled();
class NoGradGuard {
public:
    NoGradGuard();
    ~NoGradGuard();
    NoGradGuard(const NoGradGuard&) = delete;
    NoGradGuard& operator=(const NoGradGuard&) = delete;

private:
    bool previous_;
};

// True when grad mode is on and at least one input requires grad: the op must record a node.
bool needs_grad(std::initializer_list<const Tensor*> inputs);

// Attaches a node to `out` (marks it as requiring grad). Ops call this only when needs_grad() is true.
// Example (the whole pattern of an op):
//   Tensor out = Tensor::empty(x.shape());
//   ...forward into out.data()...
//   if (needs_grad({&x}))
//       record(out, "relu", {x}, [x](TensorImpl& o) { ...x.grad_buffer()[i] += ... o.grad ... });
void record(Tensor& out, const char* op_name, std::vector<Tensor> inputs, std::function<void(TensorImpl&)> backward);

// Throws std::invalid_argument with "op: message" when `condition` is false.
void check(bool condition, const char* op_name, const std::string& message);

}  // namespace gpt
