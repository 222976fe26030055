// Tensor: float32, contiguous, row-major storage with a shape, and — when it requires grad — an
// autograd half (AutogradMeta): a gradient buffer of the same shape plus the tape node that produced it.
//
// Ownership: a Tensor is a cheap handle (one shared_ptr) to a TensorImpl. The impl shares its Storage,
// so reshape of contiguous data is a view (no copy). Storage comes from a size-bucketed cache
// (autograd/storage_cache.cpp), so a training step that allocates the same shapes every step reuses the
// same buffers instead of going to malloc: the steady state allocates nothing new from the system.
//
// The tape: an op whose inputs need a gradient records a Node on its output. The node holds each input
// once, as its AutogradMeta (where its gradient goes and which node made it, never its values), and the
// backward closure written next to the op's forward; the closure keeps only the values its formula
// reads, saved with detach() (PyTorch's saved tensors, flashlight's withoutData()). An input whose
// values the formula does not read (add's operands, a reshape's source) is freed as soon as nothing
// else uses it. backward() on a scalar walks the nodes once in reverse topological order; gradients
// accumulate (+=); each closure is dropped once it has run, so a second backward through the same
// graph is refused instead of reading freed values.
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

struct AutogradMeta;
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

    // A Tensor is a handle: like a pointer, a const handle still gives access to the values (backward
    // closures capture their saved tensors by value, hence const).
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

    Tensor detach() const;  // same storage, no tape, no grad: how a backward closure saves values
    Tensor clone() const;   // copied storage, no tape
    Tensor view(const Shape& shape) const;  // shares storage; -1 allowed once; NOT recorded on the tape

    TensorImpl* impl() const { return impl_.get(); }
    bool is_same(const Tensor& other) const { return impl_ == other.impl_; }

private:
    std::shared_ptr<TensorImpl> impl_;
};

// Every existing gradient of `tensors` set to zero (Tensor::zero_grad for each), in one parallel region
// over all their buffers: a step zeroes many small gradients that alone are each too small to share.
void zero_grads(const std::vector<Tensor>& tensors);

// The autograd half of a tensor, apart from its values so that the tape can hold it without keeping
// the storage alive. Created on first need (requires_grad, a gradient, a recorded node).
struct AutogradMeta {
    Shape shape;  // the tensor's, and its gradient's
    int64_t numel = 0;
    std::shared_ptr<Storage> grad;  // dL/d(tensor), nullptr until something accumulates into it
    bool requires_grad = false;
    bool retain_grad = false;  // keep an intermediate's gradient after backward (PyTorch's retain_grad())
    std::shared_ptr<Node> grad_fn;  // the node that produced the tensor; nullptr for leaves
    // Leaves only: called once per backward(), as soon as this leaf's gradient has received every
    // contribution of the graph (PyTorch's register_post_accumulate_grad_hook). The optimizer can then
    // update the parameter at once and free its gradient (optim/adamw_in_backward.h): no full set of
    // gradients ever exists. Called whether or not a gradient arrived (then grad is nullptr). The
    // values it may change are read by no closure still to run: every node that has this leaf as an
    // input has run.
    std::function<void()> on_gradient_ready;

    float* grad_buffer();  // the gradient, allocated zeroed on first use
};

struct TensorImpl {
    Shape shape;
    int64_t numel = 0;
    std::shared_ptr<Storage> storage;
    int64_t offset = 0;  // in floats, for views into a larger storage
    std::shared_ptr<AutogradMeta> autograd;  // nullptr until needed; never shared between impls

    float* data() { return storage->data + offset; }
    AutogradMeta& autograd_meta();  // creates it on first use
};

// Where a closure writes input k's gradient (Grads::target).
struct GradTarget {
    float* data = nullptr;  // nullptr: input k needs no gradient
    bool assign = false;    // a new buffer, not zeroed: write every element once (=); false: add (+=)
};

// What a backward closure is given: dL/d(out), and where to add dL/d(input k).
struct Grads {
    // dL/d(out), contiguous, the output's shape. Never nullptr, except for an op with two outputs
    // (record_pair) when only its second output received a gradient: the first's term is then zero.
    const float* out;
    const Node& node;
    // An op with two outputs (record_pair): dL/d(second output), or nullptr when no gradient reached it
    // (its term is then zero). nullptr for every other op.
    const float* second = nullptr;
    // Input k's gradient buffer (allocated zeroed on first use), or nullptr when input k needs no
    // gradient (a constant, an undefined optional input). Closures add (+=), never assign.
    float* input(size_t k) const;
    // Input k's gradient to write: while input k has no gradient yet (the first of the ops that read it
    // to run backward, for every activation read once), a new buffer that is not zeroed, with assign =
    // true: the closure writes every element with = (0 + v is v: the same value, up to the sign of a
    // zero). Otherwise the existing buffer and assign = false: the closure adds, as into input(k). This
    // spares the zero fill and the read of the zeros (a pass over the activation each).
    GradTarget target(size_t k) const;
    // Input k's gradient buffer made from `saved`'s storage instead of a new one, when `saved` is the
    // last reference to that storage (values only this closure reads), covers it whole, and input k has
    // no gradient yet. The buffer then holds `saved`'s values, not zeros: the closure must assign every
    // element (reading each value before it overwrites it). nullptr when any condition fails: the closure
    // then adds into input(k) as usual. Cross-entropy uses it to write the logits' gradient over the
    // logits (GPT-2's head: 49 MiB less at the peak).
    float* reuse_for_input(size_t k, const Tensor& saved) const;
};

// One recorded operation. Holds each input once, as its AutogradMeta; the output is not held (that would
// make a reference cycle) and reaches the closure as `g.out`. After backward runs the closure it is
// dropped (freeing the saved values), and the node stays only as a record of the graph's shape.
struct Node {
    const char* op_name = "";
    // In the op's argument order; nullptr for an undefined optional input (a missing bias).
    std::vector<std::shared_ptr<AutogradMeta>> inputs;
    std::function<void(const Grads&)> backward;  // empty once run: backward has freed this graph
    // Two outputs (record_pair): the first output's node reads the second's gradient (Grads::second) and
    // frees it; weak, because the second output's node holds the first output as its input.
    std::weak_ptr<AutogradMeta> second;
    bool hands_gradient_on = false;  // this is a second output's node: its gradient outlives it (above)
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
// The closure captures, saved with detach(), only the values its formula reads; never an input or the
// output themselves (the node already holds the inputs' gradient targets). Example, d gelu needs x:
//   Tensor out = Tensor::empty(x.shape());
//   ...forward into out.data()...
//   if (needs_grad({&x}))
//       record(out, "gelu", {x}, [xv = x.detach()](const Grads& g) {
//           if (float* dx = g.input(0)) ...dx[i] += g.out[i] · gelu'(xv.data()[i])...
//       });
void record(Tensor& out, const char* op_name, const std::vector<Tensor>& inputs,
            std::function<void(const Grads&)> backward);

// The same for an op with two outputs, `out` and `second` (add_layer_norm: the residual sum and its
// LayerNorm), whose backward needs both gradients at once to make one pass: `backward` is `out`'s
// closure and reads dL/d(second) as Grads::second. `second` gets a node whose only input is `out`, so
// backward runs it after every op that reads `second` and before `out`'s node, i.e. once both gradients
// are complete; that node runs no formula, and its gradient is kept until `out`'s closure has read it.
// The closure runs when either output received a gradient; the other's pointer is then nullptr.
void record_pair(Tensor& out, Tensor& second, const char* op_name, const std::vector<Tensor>& inputs,
                 std::function<void(const Grads&)> backward);

// Throws std::invalid_argument with "op: message" when `condition` is false.
void check(bool condition, const char* op_name, const std::string& message);

}  // namespace gpt
