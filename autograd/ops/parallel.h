// Threading policy shared by the op kernels (private to autograd/ops/).
//
// Element-wise and row-wise loops run under `#pragma omp parallel for schedule(static) if (n >= …)`, n in
// elements, against one of the two thresholds below: under it, waking the OpenMP team costs more than
// the loop itself. sgemm (gemm.h) brings its own threads, so it is never called from inside one of these
// regions. (The attention op measures its work in multiply-adds and keeps its own threshold.)
//
// Determinism: no loop here lets two threads add into the same float. Reductions are split by output
// element (each output summed by one thread, in a fixed order), so results do not depend on scheduling.
#pragma once

#include <omp.h>

#include <algorithm>
#include <cstdint>

namespace gpt {

// Memory-bound loops, a few flops per float loaded (copies, adds, masks, sums, scatters): the team pays
// off from ~32K floats.
inline constexpr int64_t kParallelMinMemoryBound = 32768;
// Compute-bound loops, an exp or tens of flops per element (gelu, softmax, layer_norm, cross_entropy):
// the work per element is larger, so the team pays off from half as many.
inline constexpr int64_t kParallelMinComputeBound = 1 << 14;

// A reduction over the rows of a [rows, cols] matrix (bias gradients, embedding scatter, sum over a
// leading axis) is split by columns: each thread owns a block of columns and walks every row in order.
// Blocks are wide (about cols / threads) so each row's piece streams through the prefetcher; a block
// width changes only who sums a column, never the order of its terms, so results are bit-identical
// for any thread count.
inline int64_t column_block(int64_t cols) {
    const int64_t threads = omp_get_max_threads();
    const int64_t per_thread = ((cols + threads - 1) / threads + 15) / 16 * 16;
    return std::max<int64_t>(per_thread, 64);
}

// Calls body(c0, c1) once per column block of [0, cols), the blocks shared among threads when
// `parallel`: the loop every column-split row reduction above runs.
template <class Body>
inline void for_column_blocks(int64_t cols, bool parallel, const Body& body) {
    const int64_t width = column_block(cols);
    const int64_t blocks = (cols + width - 1) / width;
#pragma omp parallel for schedule(static) if (parallel)
    for (int64_t block = 0; block < blocks; ++block) {
        const int64_t c0 = block * width;
        body(c0, std::min(c0 + width, cols));
    }
}

}  // namespace gpt
