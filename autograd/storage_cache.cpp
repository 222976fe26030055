#include "autograd/storage_cache.h"

#include <cstdlib>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

namespace gpt {
namespace {

// 64-byte alignment: one cache line, and what AVX-512 loads want.
constexpr size_t kAlignment = 64;

struct Cache {
    std::mutex mutex;
    std::unordered_map<int64_t, std::vector<float*>> free_by_size;
    ~Cache() {
        for (auto& [size, buffers] : free_by_size)
            for (float* p : buffers) std::free(p);
    }
};

Cache& cache() {
    static Cache instance;  // the allocator's own free lists; see the header for why this is harmless
    return instance;
}

}  // namespace

float* storage_cache_acquire(int64_t floats) {
    if (floats <= 0) floats = 1;  // a zero-size tensor still owns a valid pointer
    {
        Cache& c = cache();
        std::lock_guard<std::mutex> lock(c.mutex);
        auto it = c.free_by_size.find(floats);
        if (it != c.free_by_size.end() && !it->second.empty()) {
            float* p = it->second.back();
            it->second.pop_back();
            return p;
        }
    }
    const size_t bytes = (static_cast<size_t>(floats) * sizeof(float) + kAlignment - 1) / kAlignment * kAlignment;
    void* p = std::aligned_alloc(kAlignment, bytes);
    if (!p) throw std::bad_alloc();
    return static_cast<float*>(p);
}

void storage_cache_release(float* data, int64_t floats) {
    if (!data) return;
    if (floats <= 0) floats = 1;
    Cache& c = cache();
    std::lock_guard<std::mutex> lock(c.mutex);
    c.free_by_size[floats].push_back(data);
}

}  // namespace gpt
