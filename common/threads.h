// One thread pool for everything: OpenBLAS is the OpenMP build, so setting OpenMP's thread count sets
// BLAS's too. Our own parallel loops never call BLAS inside a parallel region.
#pragma once

#include <cstdint>

namespace gpt {

// requested > 0: that many; 0: OMP_NUM_THREADS if set, else usable_core_count() shared among the
// ranks_on_node processes of a data-parallel job on this machine (unless the launcher bound this
// process to other CPUs than its own: then those cores are its share).
// Returns the count in effect.
int configure_threads(int64_t requested, int ranks_on_node = 1);

// The cores this process may really use: the physical cores (hyper-threads share one core's FMA units)
// among the CPUs in its affinity mask (sched_getaffinity: taskset, docker --cpuset-cpus, mpirun
// bindings), capped by the cgroup CPU quota where one is set (docker --cpus, systemd CPUQuota;
// cgroup v2 cpu.max or v1 cpu.cfs_quota_us), rounded up. At least 1.
int usable_core_count();

}  // namespace gpt
