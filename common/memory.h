// Memory this process can still use, for the checks that refuse a model or a run before allocating it.
#pragma once

namespace gpt {

// MemAvailable from /proc/meminfo, lowered to the cgroup's limit (memory.max − memory.current) when
// there is one. -1 when unknown.
double available_memory_bytes();

}  // namespace gpt
