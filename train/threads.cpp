#include "train/threads.h"

#include <omp.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <utility>

namespace gpt {

int physical_core_count() {
    // Distinct (physical id, core id) pairs in /proc/cpuinfo; hyper-threads share a core and would only
    // contend for the same FMA units.
    std::ifstream cpuinfo("/proc/cpuinfo");
    std::set<std::pair<std::string, std::string>> cores;
    std::string line, physical = "0";
    while (std::getline(cpuinfo, line)) {
        const auto colon = line.find(':');
        if (colon == std::string::npos) continue;
        const std::string value = colon + 2 <= line.size() ? line.substr(colon + 2) : "";
        if (line.rfind("physical id", 0) == 0) physical = value;
        if (line.rfind("core id", 0) == 0) cores.insert({physical, value});
    }
    if (!cores.empty()) return static_cast<int>(cores.size());
    const unsigned hardware = std::thread::hardware_concurrency();
    return hardware > 0 ? static_cast<int>(hardware) : 1;
}

int configure_threads(int64_t requested) {
    int threads = static_cast<int>(requested);
    if (threads <= 0) {
        const char* env = std::getenv("OMP_NUM_THREADS");
        threads = env && std::atoi(env) > 0 ? std::atoi(env) : physical_core_count();
    }
    omp_set_num_threads(threads);
    return threads;
}

}  // namespace gpt
