// Run-time kernel selection (see kernels.h).
#include <cpuid.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>

#include "autograd/kernels/kernels.h"

namespace gpt {

namespace {

// F16C from CPUID leaf 1 (ECX bit 29): clang 14's __builtin_cpu_supports does not know "f16c".
bool cpu_has_f16c() {
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    return __get_cpuid(1, &eax, &ebx, &ecx, &edx) && (ecx & bit_F16C) != 0;
}

bool cpu_has(KernelPath path) {
    switch (path) {
        case KernelPath::portable:
            return true;
        case KernelPath::avx2:
            __builtin_cpu_init();
            return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                   __builtin_cpu_supports("bmi") && __builtin_cpu_supports("bmi2") &&
                   cpu_has_f16c() && __builtin_cpu_supports("popcnt");
        case KernelPath::avx512:
            return cpu_has(KernelPath::avx2) && __builtin_cpu_supports("avx512f") &&
                   __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw") &&
                   __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512cd");
    }
    return false;
}

const kernels::Table& table_of(KernelPath path) {
    switch (path) {
        case KernelPath::avx512: return kernels::avx512_table();
        case KernelPath::avx2: return kernels::avx2_table();
        case KernelPath::portable: break;
    }
    return kernels::portable_table();
}

const kernels::Table* select() {
    if (const char* env = std::getenv("GPT_KERNELS"); env && *env) {
        for (KernelPath p : {KernelPath::avx512, KernelPath::avx2, KernelPath::portable})
            if (std::strcmp(env, kernel_path_name(p)) == 0) {
                if (!cpu_has(p))
                    throw std::runtime_error(std::string("GPT_KERNELS=") + env + ": this CPU cannot run that path");
                return &table_of(p);
            }
        throw std::runtime_error(std::string("GPT_KERNELS=") + env + ": expected avx512, avx2 or portable");
    }
    return &table_of(supported_kernel_paths().front());
}

std::atomic<const kernels::Table*> current{nullptr};

}  // namespace

const kernels::Table& kernels::table() {
    const Table* t = current.load(std::memory_order_acquire);
    if (!t) {
        static const Table* const selected = select();  // once; a bad GPT_KERNELS throws here
        const Table* expected = nullptr;
        current.compare_exchange_strong(expected, selected, std::memory_order_acq_rel);
        t = current.load(std::memory_order_acquire);
    }
    return *t;
}

KernelPath kernel_path() { return kernels::table().path; }
const char* kernel_path_name() { return kernel_path_name(kernel_path()); }

const char* kernel_path_name(KernelPath path) {
    switch (path) {
        case KernelPath::avx512: return "avx512";
        case KernelPath::avx2: return "avx2";
        case KernelPath::portable: return "portable";
    }
    return "?";
}

bool kernel_path_supported(KernelPath path) { return cpu_has(path); }

std::vector<KernelPath> supported_kernel_paths() {
    std::vector<KernelPath> paths;
    for (KernelPath p : {KernelPath::avx512, KernelPath::avx2, KernelPath::portable})
        if (cpu_has(p)) paths.push_back(p);
    return paths;
}

void set_kernel_path(KernelPath path) {
    if (!cpu_has(path))
        throw std::runtime_error(std::string("set_kernel_path: this CPU cannot run ") + kernel_path_name(path));
    current.store(&table_of(path), std::memory_order_release);
}

}  // namespace gpt
