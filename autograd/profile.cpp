#include "autograd/profile.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <map>
#include <mutex>
#include <utility>
#include <vector>

namespace gpt::profile {
namespace {

struct Bucket {
    double seconds = 0.0;
    int64_t calls = 0;
};

std::atomic<bool> profiling{false};

struct Registry {
    std::mutex mutex;
    std::map<std::pair<std::string, std::string>, Bucket> buckets;
};

Registry& registry() {
    static Registry instance;  // process-wide timers, like the flag that turns them on
    return instance;
}

}  // namespace

void set_enabled(bool on) { profiling.store(on, std::memory_order_relaxed); }
bool enabled() { return profiling.load(std::memory_order_relaxed); }

void reset() {
    std::lock_guard<std::mutex> lock(registry().mutex);
    registry().buckets.clear();
}

void add(const char* name, const char* phase, double seconds) {
    std::lock_guard<std::mutex> lock(registry().mutex);
    Bucket& b = registry().buckets[{name, phase}];
    b.seconds += seconds;
    b.calls += 1;
}

std::string table(int64_t steps) {
    std::vector<std::pair<std::pair<std::string, std::string>, Bucket>> rows;
    {
        std::lock_guard<std::mutex> lock(registry().mutex);
        rows.assign(registry().buckets.begin(), registry().buckets.end());
    }
    std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.second.seconds > b.second.seconds; });
    double total = 0.0;
    for (const auto& row : rows) total += row.second.seconds;
    const double per = static_cast<double>(std::max<int64_t>(steps, 1));
    std::string out;
    char line[200];
    std::snprintf(line, sizeof line, "%-24s %-9s %8s %10s %10s %6s\n", "op", "phase", "calls", "total ms", "ms/step",
                  "share");
    out += line;
    for (const auto& [key, b] : rows) {
        std::snprintf(line, sizeof line, "%-24s %-9s %8lld %10.1f %10.2f %5.1f%%\n", key.first.c_str(),
                      key.second.c_str(), (long long)b.calls, b.seconds * 1e3, b.seconds * 1e3 / per,
                      total > 0.0 ? 100.0 * b.seconds / total : 0.0);
        out += line;
    }
    std::snprintf(line, sizeof line, "%-24s %-9s %8s %10.1f %10.2f\n", "total (timed)", "", "", total * 1e3,
                  total * 1e3 / per);
    return out + line;
}

}  // namespace gpt::profile
