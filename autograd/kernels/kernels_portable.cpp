// The portable path (kernels.h): OpenBLAS for products (no own SGEMM) and kernels_impl.h's loops, this
// file compiled for baseline x86-64 (SSE2; CMakeLists.txt) whatever the build's -march.
#define GPT_KERNEL_NS portable
#define GPT_KERNEL_PATH ::gpt::KernelPath::portable
#define GPT_KERNEL_HAS_SGEMM 0

#include "autograd/kernels/kernels_impl.h"

const gpt::kernels::Table& gpt::kernels::portable_table() { return portable::path_table(); }
