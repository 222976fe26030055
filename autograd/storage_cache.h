// A size-keyed cache of float buffers behind Storage. Training allocates the same shapes every step, so
// after the first step every request is served from buffers freed by the previous step: no malloc, no
// page faults, no zeroing by the kernel in the steady state. It holds no values that affect results:
// a buffer from the cache is uninitialised memory like a fresh one.
#pragma once

#include <cstdint>
#include <new>
#include <string>

namespace gpt {

// A buffer of `floats` floats. When the system has no memory left, the cache's unused buffers are
// returned to it and the allocation tried once more; then OutOfMemory (a std::bad_alloc) is thrown.
float* storage_cache_acquire(int64_t floats);
// Never allocates or throws (it runs in Storage's destructor, also while unwinding from OutOfMemory).
void storage_cache_release(float* data, int64_t floats) noexcept;

// Returns every cached (currently unused) buffer to the system; returns the bytes released.
int64_t storage_cache_trim();

// std::bad_alloc that says how much was asked for; commands add what asked for it.
class OutOfMemory : public std::bad_alloc {
public:
    explicit OutOfMemory(int64_t floats);
    const char* what() const noexcept override { return message_.c_str(); }

private:
    std::string message_;
};

}  // namespace gpt
