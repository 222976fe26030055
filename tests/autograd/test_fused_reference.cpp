// The fused ops against an independent PyTorch implementation (tests/autograd/reference_fused.py),
// forward and gradients, in one python invocation. The reference runs in float64, so the differences
// are this project's float32 rounding. When GPT_PYTHON cannot import torch: a failure under
// GPT_REQUIRE_TORCH=1, else skipped with a message (tests/reference_python.h).
#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "autograd/ops.h"
#include "common/random.h"
#include "tests/reference_python.h"
#include "tests/reference_text.h"

using namespace gpt;

namespace {

using test::compare;
using test::read_tensors;
using test::write_tensor;

std::vector<float> normals(int64_t n, Generator& generator, double sd = 1.0, double mean = 0.0) {
    std::vector<float> v(static_cast<size_t>(n));
    for (float& x : v) x = static_cast<float>(mean + sd * generator.normal());
    return v;
}

// One case: the op's output and gradients computed here, compared against the reference's after it ran.
struct Case {
    std::string name;
    std::map<std::string, std::vector<float>> ours;  // field ("out", "dx", ...) → values
};

}  // namespace

TEST_CASE("fused ops match PyTorch (float64 reference): forward ≤ 1e-5, gradients ≤ 1e-4 relative") {
    const std::string stem = std::string(GPT_BINARY_DIR) + "/fused_reference_" + std::to_string(getpid());
    const std::string in_path = stem + "_in.txt", out_path = stem + "_out.txt";
    std::ofstream file(in_path);
    Generator generator(2718);
    std::vector<Case> cases;

    {  // gelu, including the tails
        Tensor x = Tensor::from_vector({4, 9}, normals(36, generator, 2.0), true);
        Tensor r = Tensor::from_vector({4, 9}, normals(36, generator));
        write_tensor(file, "gelu.x", x.shape(), x.to_vector());
        write_tensor(file, "gelu.r", r.shape(), r.to_vector());
        Tensor out = gelu(x);
        out.backward(r);
        cases.push_back({"gelu", {{"out", out.to_vector()}, {"dx", x.grad_tensor().to_vector()}}});
    }
    {  // gelu_erf, the exact GELU (issue 29: PyTorch's "gelu" in nn.Transformer*Layer)
        Tensor x = Tensor::from_vector({4, 9}, normals(36, generator, 2.0), true);
        Tensor r = Tensor::from_vector({4, 9}, normals(36, generator));
        write_tensor(file, "erfgelu.x", x.shape(), x.to_vector());
        write_tensor(file, "erfgelu.r", r.shape(), r.to_vector());
        Tensor out = gelu_erf(x);
        out.backward(r);
        cases.push_back({"erfgelu", {{"out", out.to_vector()}, {"dx", x.grad_tensor().to_vector()}}});
    }
    {  // layer_norm over [3, 4, 16] with an offset mean
        Tensor x = Tensor::from_vector({3, 4, 16}, normals(192, generator, 2.0, 1.5), true);
        Tensor w = Tensor::from_vector({16}, normals(16, generator, 0.5, 1.0), true);
        Tensor b = Tensor::from_vector({16}, normals(16, generator), true);
        Tensor r = Tensor::from_vector({3, 4, 16}, normals(192, generator));
        for (auto& [field, t] : {std::pair{"x", x}, {"weight", w}, {"bias", b}, {"r", r}})
            write_tensor(file, std::string("layer_norm.") + field, t.shape(), t.to_vector());
        Tensor out = layer_norm(x, w, b);
        out.backward(r);
        cases.push_back({"layer_norm",
                         {{"out", out.to_vector()}, {"dx", x.grad_tensor().to_vector()},
                          {"dweight", w.grad_tensor().to_vector()}, {"dbias", b.grad_tensor().to_vector()}}});
    }
    {  // add_layer_norm over [3, 4, 16]: (x + y) then layer_norm, L = Σ normed ⊙ r + Σ sum ⊙ rs
        Tensor x = Tensor::from_vector({3, 4, 16}, normals(192, generator, 2.0, 1.5), true);
        Tensor y = Tensor::from_vector({3, 4, 16}, normals(192, generator, 1.0, -0.5), true);
        Tensor w = Tensor::from_vector({16}, normals(16, generator, 0.5, 1.0), true);
        Tensor b = Tensor::from_vector({16}, normals(16, generator), true);
        Tensor r = Tensor::from_vector({3, 4, 16}, normals(192, generator));
        Tensor rs = Tensor::from_vector({3, 4, 16}, normals(192, generator));
        for (auto& [field, t] : {std::pair{"x", x}, {"y", y}, {"weight", w}, {"bias", b}, {"r", r}, {"rs", rs}})
            write_tensor(file, std::string("add_layer_norm.") + field, t.shape(), t.to_vector());
        const AddNorm out = add_layer_norm(x, y, w, b);
        (out.normed * r + out.sum * rs).backward(Tensor::full({3, 4, 16}, 1.0f));
        cases.push_back({"add_layer_norm",
                         {{"out", out.normed.to_vector()}, {"sum", out.sum.to_vector()}, {"dx", x.grad_tensor().to_vector()},
                          {"dy", y.grad_tensor().to_vector()}, {"dweight", w.grad_tensor().to_vector()},
                          {"dbias", b.grad_tensor().to_vector()}}});
    }
    {  // cross_entropy over [3, 5, 11] with ignored rows and a loss gradient other than 1
        Tensor logits = Tensor::from_vector({3, 5, 11}, normals(165, generator, 3.0), true);
        std::vector<int32_t> targets(15);
        for (size_t n = 0; n < targets.size(); ++n)
            targets[n] = n % 4 == 1 ? -100 : static_cast<int32_t>(generator.below(11));
        std::vector<float> target_values(targets.begin(), targets.end());
        write_tensor(file, "cross_entropy.logits", logits.shape(), logits.to_vector());
        write_tensor(file, "cross_entropy.targets", {15}, target_values);
        write_tensor(file, "cross_entropy.ignore_index", {}, {-100.0f});
        write_tensor(file, "cross_entropy.r", {}, {0.75f});
        Tensor loss = cross_entropy(logits, targets);
        loss.backward(Tensor::scalar(0.75f));
        cases.push_back({"cross_entropy", {{"out", loss.to_vector()}, {"dlogits", logits.grad_tensor().to_vector()}}});
    }
    for (int64_t H_kv : {4, 2, 1}) {  // attention, MHA and GQA
        const int64_t B = 2, T = 6, H = 4, hd = 8;
        const std::string name = "attention_kv" + std::to_string(H_kv);
        Tensor qkv = Tensor::from_vector({B, T, (H + 2 * H_kv) * hd}, normals(B * T * (H + 2 * H_kv) * hd, generator), true);
        Tensor r = Tensor::from_vector({B, T, H * hd}, normals(B * T * H * hd, generator));
        write_tensor(file, name + ".qkv", qkv.shape(), qkv.to_vector());
        write_tensor(file, name + ".r", r.shape(), r.to_vector());
        write_tensor(file, name + ".n_head", {}, {static_cast<float>(H)});
        write_tensor(file, name + ".n_kv_head", {}, {static_cast<float>(H_kv)});
        Generator unused(1);
        Tensor out = causal_self_attention(qkv, H, H_kv, 0.0f, true, unused);
        out.backward(r);
        cases.push_back({name, {{"out", out.to_vector()}, {"dqkv", qkv.grad_tensor().to_vector()}}});
    }
    {  // the attention op's other modes (issue 29): bidirectional and causal self-attention and cross
       // attention, MHA and GQA, each with key padding as lengths or as a mask (a row with no key: zeros)
        struct ModeCase {
            std::string name;
            bool cross;
            AttentionMode mode;
            int64_t B, Tq, Tk, H, H_kv, hd;
            KeyPadding padding;
        };
        auto holes = [](int64_t B, int64_t Tk) {  // row 0: every third key; row 1: the first two; others: none
            KeyPadding p;
            p.mask.assign(static_cast<size_t>(B * Tk), 0);
            for (int64_t j = 0; j < Tk; ++j) {
                p.mask[static_cast<size_t>(j)] = j % 3 == 1;
                p.mask[static_cast<size_t>(Tk + j)] = j < 2;
            }
            return p;
        };
        const std::vector<ModeCase> mode_cases = {
            {"bidirectional_kv4", false, AttentionMode::bidirectional, 3, 6, 6, 4, 4, 8, KeyPadding{}},
            {"bidirectional_kv2_lengths", false, AttentionMode::bidirectional, 3, 6, 6, 4, 2, 8, KeyPadding{{6, 4, 0}, {}}},
            {"bidirectional_kv1_mask", false, AttentionMode::bidirectional, 2, 6, 6, 4, 1, 8, holes(2, 6)},
            // 70 queries: two row blocks. Few valid keys: float32 sums over ~70 keys carry ~1e-5 relative
            // error into outputs near a hundredth of the largest (compare()'s floor), the tolerance's limit.
            {"bidirectional_long_lengths", false, AttentionMode::bidirectional, 2, 70, 70, 2, 2, 8, KeyPadding{{10, 7}, {}}},
            {"causal_kv2_lengths", false, AttentionMode::causal, 3, 6, 6, 4, 2, 8, KeyPadding{{6, 3, 0}, {}}},
            {"causal_kv4_mask", false, AttentionMode::causal, 2, 6, 6, 4, 4, 8, holes(2, 6)},
            {"cross_kv4", true, AttentionMode::bidirectional, 2, 5, 7, 4, 4, 8, KeyPadding{}},
            {"cross_kv2_lengths", true, AttentionMode::bidirectional, 3, 5, 7, 4, 2, 8, KeyPadding{{7, 2, 0}, {}}},
            {"cross_kv1_mask", true, AttentionMode::bidirectional, 2, 9, 4, 4, 1, 8, holes(2, 4)},
            {"cross_long_lengths", true, AttentionMode::bidirectional, 2, 70, 80, 2, 1, 8, KeyPadding{{9, 5}, {}}},
        };
        for (const ModeCase& m : mode_cases) {
            const std::string name = "attnmode_" + m.name;
            std::vector<float> padding(static_cast<size_t>(m.B * m.Tk), 0.0f);
            for (int64_t b = 0; b < m.B; ++b)
                for (int64_t j = 0; j < m.Tk; ++j)
                    padding[static_cast<size_t>(b * m.Tk + j)] =
                        !m.padding.lengths.empty() ? float(j >= m.padding.lengths[static_cast<size_t>(b)])
                        : !m.padding.mask.empty()  ? float(m.padding.mask[static_cast<size_t>(b * m.Tk + j)])
                                                   : 0.0f;
            write_tensor(file, name + ".padding", {m.B, m.Tk}, padding);
            write_tensor(file, name + ".n_head", {}, {static_cast<float>(m.H)});
            write_tensor(file, name + ".n_kv_head", {}, {static_cast<float>(m.H_kv)});
            write_tensor(file, name + ".causal", {}, {m.mode == AttentionMode::causal ? 1.0f : 0.0f});
            Tensor r = Tensor::from_vector({m.B, m.Tq, m.H * m.hd}, normals(m.B * m.Tq * m.H * m.hd, generator));
            write_tensor(file, name + ".r", r.shape(), r.to_vector());
            Generator unused(1);
            if (m.cross) {
                Tensor q = Tensor::from_vector({m.B, m.Tq, m.H * m.hd}, normals(m.B * m.Tq * m.H * m.hd, generator), true);
                const int64_t width = 2 * m.H_kv * m.hd;
                Tensor kv = Tensor::from_vector({m.B, m.Tk, width}, normals(m.B * m.Tk * width, generator), true);
                write_tensor(file, name + ".q", q.shape(), q.to_vector());
                write_tensor(file, name + ".kv", kv.shape(), kv.to_vector());
                Tensor out = cross_attention(q, kv, m.H, m.H_kv, 0.0f, true, unused, m.padding);
                out.backward(r);
                cases.push_back({name, {{"out", out.to_vector()}, {"dq", q.grad_tensor().to_vector()},
                                        {"dkv", kv.grad_tensor().to_vector()}}});
            } else {
                const int64_t width = (m.H + 2 * m.H_kv) * m.hd;
                Tensor qkv = Tensor::from_vector({m.B, m.Tq, width}, normals(m.B * m.Tq * width, generator), true);
                write_tensor(file, name + ".qkv", qkv.shape(), qkv.to_vector());
                Tensor out = self_attention(qkv, m.H, m.H_kv, m.mode, 0.0f, true, unused, m.padding);
                out.backward(r);
                cases.push_back({name, {{"out", out.to_vector()}, {"dqkv", qkv.grad_tensor().to_vector()}}});
            }
        }
    }
    {  // rms_norm over [3, 4, 16] (issue 31)
        Tensor x = Tensor::from_vector({3, 4, 16}, normals(192, generator, 2.0, 0.5), true);
        Tensor w = Tensor::from_vector({16}, normals(16, generator, 0.5, 1.0), true);
        Tensor r = Tensor::from_vector({3, 4, 16}, normals(192, generator));
        for (auto& [field, t] : {std::pair{"x", x}, {"weight", w}, {"r", r}})
            write_tensor(file, std::string("rms_norm.") + field, t.shape(), t.to_vector());
        Tensor out = rms_norm(x, w);
        out.backward(r);
        cases.push_back({"rms_norm", {{"out", out.to_vector()}, {"dx", x.grad_tensor().to_vector()},
                                      {"dweight", w.grad_tensor().to_vector()}}});
    }
    for (int64_t H_kv : {4, 2}) {  // qk_rms_norm on the fused qkv (issue 31)
        const int64_t B = 2, T = 3, H = 4, hd = 8;
        const std::string name = "qk_norm_kv" + std::to_string(H_kv);
        Tensor qkv = Tensor::from_vector({B, T, (H + 2 * H_kv) * hd}, normals(B * T * (H + 2 * H_kv) * hd, generator), true);
        Tensor wq = Tensor::from_vector({hd}, normals(hd, generator, 0.5, 1.0), true);
        Tensor wk = Tensor::from_vector({hd}, normals(hd, generator, 0.5, 1.0), true);
        Tensor r = Tensor::from_vector(qkv.shape(), normals(qkv.numel(), generator));
        for (auto& [field, t] : {std::pair{"qkv", qkv}, {"q_weight", wq}, {"k_weight", wk}, {"r", r}})
            write_tensor(file, name + "." + field, t.shape(), t.to_vector());
        write_tensor(file, name + ".n_head", {}, {static_cast<float>(H)});
        write_tensor(file, name + ".n_kv_head", {}, {static_cast<float>(H_kv)});
        Tensor out = qk_rms_norm(qkv, wq, wk, H, H_kv);
        out.backward(r);
        cases.push_back({name, {{"out", out.to_vector()}, {"dqkv", qkv.grad_tensor().to_vector()},
                                {"dq_weight", wq.grad_tensor().to_vector()}, {"dk_weight", wk.grad_tensor().to_vector()}}});
    }
    {  // relu_squared and swiglu (issue 31)
        Tensor x = Tensor::from_vector({4, 10}, normals(40, generator, 2.0), true);
        Tensor r = Tensor::from_vector({4, 10}, normals(40, generator));
        write_tensor(file, "relu2.x", x.shape(), x.to_vector());
        write_tensor(file, "relu2.r", r.shape(), r.to_vector());
        Tensor out = relu_squared(x);
        out.backward(r);
        cases.push_back({"relu2", {{"out", out.to_vector()}, {"dx", x.grad_tensor().to_vector()}}});
        Tensor s = Tensor::from_vector({3, 2, 12}, normals(72, generator, 2.0), true);
        Tensor rs = Tensor::from_vector({3, 2, 6}, normals(36, generator));
        write_tensor(file, "swiglu.x", s.shape(), s.to_vector());
        write_tensor(file, "swiglu.r", rs.shape(), rs.to_vector());
        Tensor so = swiglu(s);
        so.backward(rs);
        cases.push_back({"swiglu", {{"out", so.to_vector()}, {"dx", s.grad_tensor().to_vector()}}});
    }
    file.close();

    const std::string command = std::string(GPT_PYTHON) + " " + GPT_SOURCE_DIR + "/tests/autograd/reference_fused.py " +
                                in_path + " " + out_path;
    const int status = std::system(command.c_str());
    const int rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    std::remove(in_path.c_str());
    if (rc == 3 || rc == 127) {
        gpt::test::reference_unavailable(std::string(GPT_PYTHON) + " cannot import torch (reference_fused.py exit " +
                                         std::to_string(rc) + ")");
        return;
    }
    REQUIRE_MESSAGE(rc == 0, "reference_fused.py failed with exit status " << rc);
    const auto reference = read_tensors(out_path);
    std::remove(out_path.c_str());

    for (const Case& c : cases)
        for (const auto& [field, ours] : c.ours) {
            const std::string key = c.name + "." + field;
            REQUIRE_MESSAGE(reference.count(key) == 1, "reference output lacks " << key);
            const double error = compare(ours, reference.at(key));
            const double tolerance = field == "out" || field == "sum" ? 1e-5 : 1e-4;
            MESSAGE(key << ": worst relative error " << error << " (tolerance " << tolerance << ")");
            CHECK_MESSAGE(error <= tolerance, key);
        }
}
