// Memory this process can still use, for the checks that refuse a model or a run before allocating it;
// what it has used (memory and CPU time), for the training log and the benchmarks.
#pragma once

namespace gpt {

// MemAvailable from /proc/meminfo, lowered to the cgroup's limit (memory.max − memory.current) when
// there is one. -1 when unknown.
double available_memory_bytes();

// The process's peak resident memory so far, in MiB (getrusage's ru_maxrss, KiB on Linux).
double peak_resident_mib();
// CPU time of the whole process (every thread, user + system), in seconds: "how many CPU-seconds did this
// model cost" (bench/speedrun.py), independent of what else the machine runs.
double process_cpu_seconds();

}  // namespace gpt
