// The threaded element-wise/row-wise kernels give bit-identical results for any thread count: each
// output element is summed by one thread in a fixed order (matmul is left out: BLAS's own blocking may
// depend on its thread count).
#include <doctest/doctest.h>

#include <omp.h>

#include "autograd/ops.h"
#include "op_test_util.h"

using namespace gpt;
using gpt::test::random_tensor;

namespace {

// Runs broadcast, reductions, softmax, embedding and permute forward and backward on inputs above the
// threading threshold; returns every output and gradient concatenated.
std::vector<float> run_ops(int threads) {
    const int previous = omp_get_max_threads();
    omp_set_num_threads(threads);
    Generator gen(26);
    const int64_t B = 16, T = 64, C = 96, V = 40;
    Tensor x = random_tensor({B, T, C}, gen);
    Tensor bias = random_tensor({C}, gen);
    Tensor scale = random_tensor({T, 1}, gen);
    Tensor table = random_tensor({V, C}, gen);
    std::vector<int32_t> ids(static_cast<size_t>(B * T));
    for (auto& id : ids) id = static_cast<int32_t>(gen.below(V));
    Tensor h = (x + bias) * scale + embedding(table, ids, {B, T});
    Tensor s = log_softmax(permute(h, {1, 0, 2}));
    Tensor loss = sum_all(sum(s, 0) * mean(h, 1)) + mean_all(h * h);
    loss.backward();
    std::vector<float> all = {loss.item()};
    for (const Tensor& t : {x, bias, scale, table}) {
        const std::vector<float> g = t.grad_tensor().to_vector();
        all.insert(all.end(), g.begin(), g.end());
    }
    omp_set_num_threads(previous);
    return all;
}

}  // namespace

TEST_CASE("op results and gradients are bit-identical with 1, 2 and 3 threads") {
    const std::vector<float> one = run_ops(1);
    CHECK(run_ops(2) == one);
    CHECK(run_ops(3) == one);
    CHECK(run_ops(2) == run_ops(2));
}
