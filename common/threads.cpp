#include "common/threads.h"

#include <omp.h>
#if defined(__SSE__)
#include <pmmintrin.h>
#include <xmmintrin.h>
#endif
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>

namespace gpt {

namespace {

// Distinct (physical id, core id) pairs of the CPUs in `allowed`, from /proc/cpuinfo; 0 if unreadable.
int physical_cores_among(const cpu_set_t& allowed) {
    std::ifstream cpuinfo("/proc/cpuinfo");
    std::set<std::pair<std::string, std::string>> cores;
    std::string line, physical = "0";
    int processor = -1;
    while (std::getline(cpuinfo, line)) {
        const auto colon = line.find(':');
        if (colon == std::string::npos) continue;
        const std::string value = colon + 2 <= line.size() ? line.substr(colon + 2) : "";
        if (line.rfind("processor", 0) == 0) processor = std::atoi(value.c_str());
        if (line.rfind("physical id", 0) == 0) physical = value;
        if (line.rfind("core id", 0) == 0 && processor >= 0 && processor < CPU_SETSIZE &&
            CPU_ISSET(processor, &allowed))
            cores.insert({physical, value});
    }
    return static_cast<int>(cores.size());
}

// The cgroup CPU quota in CPUs (quota / period), or 0 when none is set or readable.
double cgroup_cpu_quota() {
    std::ifstream v2("/sys/fs/cgroup/cpu.max");  // "max 100000" or "200000 100000"
    std::string quota;
    double period = 0.0;
    if (v2 >> quota >> period) return quota == "max" || period <= 0.0 ? 0.0 : std::atof(quota.c_str()) / period;
    std::ifstream q1("/sys/fs/cgroup/cpu/cpu.cfs_quota_us"), p1("/sys/fs/cgroup/cpu/cpu.cfs_period_us");
    double quota_us = -1.0, period_us = 0.0;
    if (q1 >> quota_us && p1 >> period_us && quota_us > 0.0 && period_us > 0.0) return quota_us / period_us;
    return 0.0;
}

}  // namespace

int usable_core_count() {
    cpu_set_t allowed;
    CPU_ZERO(&allowed);
    int cores = 0;
    if (sched_getaffinity(0, sizeof allowed, &allowed) == 0) {
        const int physical = physical_cores_among(allowed);
        cores = physical > 0 ? physical : CPU_COUNT(&allowed);
    }
    if (cores <= 0) cores = omp_get_num_procs();
    const double quota = cgroup_cpu_quota();
    if (quota > 0.0 && std::ceil(quota) < cores) cores = static_cast<int>(std::ceil(quota));
    return cores > 0 ? cores : 1;
}

namespace {

// True when the launcher (our parent: mpirun, or OpenMPI's daemon on another machine) bound this
// process to other CPUs than its own: then those CPUs are this rank's share already. Compared with the
// parent rather than with all CPUs, so that a container's cpuset does not count as a binding.
bool bound_by_launcher() {
    cpu_set_t mine, parent;
    CPU_ZERO(&mine);
    CPU_ZERO(&parent);
    if (sched_getaffinity(0, sizeof mine, &mine) != 0 || sched_getaffinity(getppid(), sizeof parent, &parent) != 0)
        return false;
    return !CPU_EQUAL(&mine, &parent);
}

// The cores of this process's share of the machine.
int cores_per_rank(int ranks_on_node) {
    const int cores = usable_core_count();
    if (ranks_on_node <= 1 || bound_by_launcher()) return cores;
    return std::max(1, cores / ranks_on_node);
}

}  // namespace

namespace {

// Runnable tasks on the machine now (/proc/stat procs_running, this process included); 0 if unreadable.
int procs_running() {
    std::ifstream stat("/proc/stat");
    std::string key;
    long long value = 0;
    while (stat >> key) {
        if (key == "procs_running" && stat >> value) return static_cast<int>(value);
        stat.ignore(1 << 20, '\n');
    }
    return 0;
}

// CPUs other processes keep busy as this one starts: the runnable tasks besides this one in the fewest
// of three looks 2 ms apart (a CPU-bound neighbour always is runnable; a passing process rarely is three
// times). 0 on an idle machine.
int busy_cpus() {
    int fewest = procs_running();
    for (int i = 0; i < 2 && fewest > 1; ++i) {
        ::usleep(2000);
        fewest = std::min(fewest, procs_running());
    }
    return std::max(0, fewest - 1);
}

}  // namespace

int configure_threads(int64_t requested, int ranks_on_node) {
    constexpr int64_t kMaxThreads = 4096;  // refused, never wrapped to an int (4294967297 would be 1)
    if (requested < 0 || requested > kMaxThreads)
        throw std::invalid_argument("threads: " + std::to_string(requested) + " is outside 0.." +
                                    std::to_string(kMaxThreads) + " (0: the usable cores)");
    int threads = static_cast<int>(requested);
    if (threads <= 0) {
        const char* env = std::getenv("OMP_NUM_THREADS");
        threads = env && std::atoi(env) > 0 ? std::atoi(env) : cores_per_rank(ranks_on_node);
        // A core another process keeps busy is not this process's to use: one thread fewer per busy core
        // (on 2 cores beside a CPU-bound neighbour the default is 1 thread, which ran 15-16k tokens/s
        // where 2 threads ran 13k). Not under mpirun, whose other ranks are the busy processes.
        if (!(env && std::atoi(env) > 0) && ranks_on_node <= 1) threads = std::max(1, threads - busy_cpus());
    }
    omp_set_num_threads(threads);
    flush_denormals();
    return threads;
}

void flush_denormals() {
#if defined(__SSE__)
    const auto set = [] {
        _MM_SET_FLUSH_ZERO_MODE(_MM_FLUSH_ZERO_ON);
        _MM_SET_DENORMALS_ZERO_MODE(_MM_DENORMALS_ZERO_ON);
    };
    set();
#pragma omp parallel
    set();
#endif
}

void choose_wait_policy(char** argv) {
    if (std::getenv("OMP_WAIT_POLICY") || std::getenv("GOMP_SPINCOUNT")) return;  // the user's choice
    // Idle machine: libgomp's own spin is the fastest (measured: GOMP_SPINCOUNT=1000 cost 8-20 % there).
    if (busy_cpus() == 0) return;
    if (::setenv("GOMP_SPINCOUNT", "1000", 1) != 0) return;
    ::execv("/proc/self/exe", argv);
    ::unsetenv("GOMP_SPINCOUNT");  // exec failed: nothing changed, the run goes on as before
}

}  // namespace gpt
