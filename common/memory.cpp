#include "common/memory.h"

#include <sys/resource.h>
#include <time.h>

#include <exception>
#include <fstream>
#include <string>

namespace gpt {

namespace {

// One number from a cgroup v2 file ("max" or unreadable: -1).
double read_cgroup_value(const std::string& path) {
    std::ifstream in(path);
    std::string word;
    if (!(in >> word) || word == "max") return -1.0;
    try {
        return std::stod(word);
    } catch (const std::exception&) {
        return -1.0;
    }
}

}  // namespace

double available_memory_bytes() {
    double available = -1.0;
    std::ifstream meminfo("/proc/meminfo");
    std::string key;
    double kib = 0.0;
    std::string unit;
    while (meminfo >> key >> kib >> unit) {
        if (key == "MemAvailable:") {
            available = kib * 1024.0;
            break;
        }
    }
    const double limit = read_cgroup_value("/sys/fs/cgroup/memory.max");
    const double used = read_cgroup_value("/sys/fs/cgroup/memory.current");
    if (limit > 0.0 && used >= 0.0) {
        const double room = limit - used;
        if (available < 0.0 || room < available) available = room;
    }
    return available;
}

double peak_resident_mib() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

double process_cpu_seconds() {
    timespec t{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

}  // namespace gpt
