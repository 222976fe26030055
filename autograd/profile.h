// Per-op-type wall-clock timers for `gpt train --profile` and gpt_bench: where a training step's time
// goes, split by op name and by direction (forward, backward). Off by default; when off a scope costs
// one relaxed atomic load. Times are inclusive (an op that calls another op counts both) and
// are meant to be read from the thread that runs the tape (ops are called from one thread; their
// OpenMP regions and BLAS calls are inside the scope).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace gpt::profile {

void set_enabled(bool on);
bool enabled();
void reset();

// Adds `seconds` to the (name, phase) bucket; phase is "forward", "backward" or anything else
// (e.g. "optimizer").
void add(const char* name, const char* phase, double seconds);

// A table sorted by total time: op, phase, calls, total ms, ms per step, share of the total.
std::string table(int64_t steps);

class Scope {
public:
    explicit Scope(const char* name, const char* phase = "forward")
        : name_(enabled() ? name : nullptr), phase_(phase) {
        if (name_) start_ = std::chrono::steady_clock::now();
    }
    ~Scope() {
        if (name_) add(name_, phase_, std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count());
    }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

private:
    const char* name_;
    const char* phase_;
    std::chrono::steady_clock::time_point start_;
};

}  // namespace gpt::profile
