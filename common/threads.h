// One thread pool for everything: OpenBLAS is the OpenMP build, so setting OpenMP's thread count sets
// BLAS's too. Our own parallel loops never call BLAS inside a parallel region.
#pragma once

#include <cstdint>

namespace gpt {

// requested > 0: that many; 0: OMP_NUM_THREADS if set, else usable_core_count() shared among the
// ranks_on_node processes of a data-parallel job on this machine (unless the launcher bound this
// process to other CPUs than its own: then those cores are its share), less one per core that other
// processes keep busy as it starts (/proc/stat procs_running; one process only, not under mpirun).
// Returns the count in effect.
// Also flushes denormal numbers to zero in every thread of the pool (flush_denormals).
int configure_threads(int64_t requested, int ranks_on_node = 1);

// Denormal floats (|x| < 1.2e-38) flushed to zero, as results (FTZ) and as operands (DAZ), in the calling
// thread and in every thread of the OpenMP pool (x86's MXCSR is per thread; threads the pool creates later
// copy their creator's). Why: an x86 core takes a microcode assist, ~100+ cycles, for each denormal an
// instruction reads or writes. Training makes them: as attention sharpens, exp() of large negative scores
// underflows into the denormal range and the probabilities, their products with V and their gradients
// fill with them. Measured on the 30-minute Shakespeare recipe (configs/shakespeare_char_30min.toml,
// 2 threads, AVX-512): 5,330 tokens/s at step 200, 2,700 at step 1,300 without, 5,440 at step 1,300
// with — the same losses to the printed digits (a value below 1.2e-38 changes nothing a float32 sum or
// product of O(1) values can show). Deterministic either way; no-op on CPUs without SSE.
void flush_denormals();

// The cores this process may really use: the physical cores (hyper-threads share one core's FMA units)
// among the CPUs in its affinity mask (sched_getaffinity: taskset, docker --cpuset-cpus, mpirun
// bindings), capped by the cgroup CPU quota where one is set (docker --cpus, systemd CPUQuota;
// cgroup v2 cpu.max or v1 cpu.cfs_quota_us), rounded up. At least 1.
int usable_core_count();

// How the pool's idle threads wait. libgomp spins 300,000 rounds (milliseconds) at every barrier before
// it sleeps, unless OMP_WAIT_POLICY or GOMP_SPINCOUNT say otherwise; OpenBLAS (the OpenMP build) runs in
// the same pool. On a machine where another process holds a core, a spinning thread takes the time the
// thread it waits for needs, and training at the default 2 threads ran 5x slower than at 1. So, when the
// user set neither variable and another process is runnable as the program starts (/proc/stat
// procs_running above 1 in three looks 2 ms apart), the program asks for GOMP_SPINCOUNT=1000 (the spin
// libgomp itself uses once it sees more threads than CPUs): a barrier that completes within microseconds
// still spins, a longer wait sleeps. On an idle machine libgomp's default is kept: there the short spin
// cost 8-20 % of training speed. (A neighbour that starts later is not seen; set GOMP_SPINCOUNT=1000
// yourself on a machine that is always busy.) libgomp reads its environment once, in a constructor that runs before main, so this
// sets the variable and re-executes the program (/proc/self/exe, same pid, arguments and environment
// otherwise); if the exec fails the run goes on with libgomp's defaults. Call first thing in main.
void choose_wait_policy(char** argv);

}  // namespace gpt
