// One thread pool for everything: OpenBLAS is the OpenMP build, so setting OpenMP's thread count sets
// BLAS's too. Our own parallel loops never call BLAS inside a parallel region.
#pragma once

#include <cstdint>

namespace gpt {

// requested > 0: that many; 0: OMP_NUM_THREADS if set, else the number of physical cores.
// Returns the count in effect.
int configure_threads(int64_t requested);
int physical_core_count();

}  // namespace gpt
