// Threading policy shared by the op kernels (private to autograd/ops/).
//
// Element-wise and row-wise loops run under `#pragma omp parallel for schedule(static) if (n >= kParallelMin)`:
// below ~32K floats, waking the OpenMP team costs more than the loop itself. BLAS (the OpenMP build of
// OpenBLAS) brings its own threads, so cblas_* is never called from inside one of these regions.
//
// Determinism: no loop here lets two threads add into the same float. Reductions are split by output
// element (each output summed by one thread, in a fixed order), so results do not depend on scheduling.
#pragma once

#include <cstdint>

namespace gpt {

inline constexpr int64_t kParallelMin = 32768;

// Column blocks used when a reduction is split across the columns of a [rows, cols] matrix.
inline constexpr int64_t kColumnBlock = 64;

}  // namespace gpt
