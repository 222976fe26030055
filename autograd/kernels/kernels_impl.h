// The loops of one kernel path, written once and compiled once per ISA (see kernels.h): SGEMM
// (impl_sgemm.h), GELU, LayerNorm, the attention softmax rows, AdamW and the exp rows of cross-entropy
// (impl_rows.h), the product with bf16 weights (impl_bf16.h), and the path's table of them. Included only
// by kernels_<isa>.cpp, after it defines GPT_KERNEL_NS (a namespace name) and GPT_KERNEL_PATH, and, where
// the path has its own SGEMM (GPT_KERNEL_HAS_SGEMM), MR, NR, KC and micro_kernel() in
// gpt::kernels::GPT_KERNEL_NS's anonymous namespace. Every file here is compiled with -ffp-contract=off
// (CMakeLists.txt): only the FMAs written out (std::fma, intrinsics) are fused.
#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdlib>
#include <new>
#include <utility>
#include <vector>

#include "autograd/kernels/kernels.h"
#include "autograd/ops/fast_math.h"

#if !defined(GPT_KERNEL_NS) || !defined(GPT_KERNEL_PATH)
#error "included by kernels_<isa>.cpp (through kernels_impl.h) only"
#endif

namespace gpt::kernels::GPT_KERNEL_NS {
namespace {

// Below this many elements a parallel region costs more than it saves (as in autograd/ops).
constexpr int64_t kElementwiseParallel = 1 << 14;

// The loops, in this namespace (each file includes nothing itself: every header they use is above).
#include "autograd/kernels/impl_sgemm.h"
#include "autograd/kernels/impl_rows.h"
#include "autograd/kernels/impl_bf16.h"

}  // namespace

const Table& path_table() {
    static const Table table{
        .path = GPT_KERNEL_PATH,
#if GPT_KERNEL_HAS_SGEMM  // else left null: the portable path's products go to OpenBLAS
        .sgemm = &sgemm,
        .packed_b_floats = &packed_b_floats,
        .pack_b = &pack_b_all,
        .sgemm_packed = &sgemm_packed,
#endif
        .gelu_forward = &gelu_forward,
        .gelu_backward = &gelu_backward,
        .gelu_backward_columns = &gelu_backward_columns,
        .layer_norm_forward = &layer_norm_forward,
        .layer_norm_backward = &layer_norm_backward,
        .add_layer_norm_forward = &add_layer_norm_forward,
        .add_layer_norm_backward = &add_layer_norm_backward,
        .softmax_causal_row = &softmax_causal_row,
        .softmax_padded_row = &softmax_padded_row,
        .adamw_update = &adamw_update,
        .row_sum_exp = &row_sum_exp,
        .row_add_scaled_exp = &row_add_scaled_exp,
        .linear_bf16 = &linear_bf16,
    };
    return table;
}

}  // namespace gpt::kernels::GPT_KERNEL_NS
