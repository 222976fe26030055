// A size-keyed cache of float buffers behind Storage. Training allocates the same shapes every step, so
// after the first step every request is served from buffers freed by the previous step: no malloc, no
// page faults, no zeroing by the kernel in the steady state. It holds no values that affect results:
// a buffer from the cache is uninitialised memory like a fresh one.
#pragma once

#include <cstdint>

namespace gpt {

float* storage_cache_acquire(int64_t floats);
void storage_cache_release(float* data, int64_t floats);

}  // namespace gpt
