#include "autograd/storage_cache.h"

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

#include <sys/mman.h>

namespace gpt {
namespace {

// 64-byte alignment: one cache line, and what AVX-512 loads want.
constexpr size_t kAlignment = 64;
// Buffers of 4 MB and more start on a 2 MB boundary and ask for transparent huge pages (Linux's default
// THP mode on many distributions, and this VM's, is "madvise": none unless asked). A product's C and A
// are read row by row at strides of kilobytes; with 4 KB pages every row of a tile is another TLB entry.
constexpr size_t kHuge = size_t(2) << 20, kHugeFrom = size_t(4) << 20;

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
    if (static_cast<uint64_t>(floats) > (uint64_t{1} << 60) / sizeof(float)) throw OutOfMemory(floats);
    const size_t bytes = (static_cast<size_t>(floats) * sizeof(float) + kAlignment - 1) / kAlignment * kAlignment;
    const size_t alignment = bytes >= kHugeFrom ? kHuge : kAlignment;
    void* p = std::aligned_alloc(alignment, (bytes + alignment - 1) / alignment * alignment);
    if (!p && storage_cache_trim() > 0)  // cached buffers of other sizes
        p = std::aligned_alloc(alignment, (bytes + alignment - 1) / alignment * alignment);
    if (!p) throw OutOfMemory(floats);
#ifdef MADV_HUGEPAGE
    if (alignment == kHuge) madvise(p, bytes / kHuge * kHuge, MADV_HUGEPAGE);  // advice: failure is harmless
#endif
    return static_cast<float*>(p);
}

OutOfMemory::OutOfMemory(int64_t floats) {
    const double mib = static_cast<double>(floats) * sizeof(float) / (1024.0 * 1024.0);
    char text[96];
    std::snprintf(text, sizeof text, "out of memory allocating a tensor of %lld floats (%.1f MiB)",
                  static_cast<long long>(floats), mib);
    message_ = text;
}

void storage_cache_release(float* data, int64_t floats) noexcept {
    if (!data) return;
    if (floats <= 0) floats = 1;
    Cache& c = cache();
    std::lock_guard<std::mutex> lock(c.mutex);
    // Keeping the buffer may need memory (a new list, a longer one); while unwinding from an
    // out-of-memory error there may be none: then the buffer goes back to the system instead.
    try {
        c.free_by_size[floats].push_back(data);
    } catch (...) {
        std::free(data);
    }
}

int64_t storage_cache_trim() {
    Cache& c = cache();
    std::lock_guard<std::mutex> lock(c.mutex);
    int64_t released = 0;
    for (auto& [size, buffers] : c.free_by_size) {
        for (float* p : buffers) {
            std::free(p);
            released += size * static_cast<int64_t>(sizeof(float));
        }
        buffers.clear();
    }
    return released;
}

}  // namespace gpt
