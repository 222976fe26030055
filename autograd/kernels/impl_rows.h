// kernels_impl.h's loops other than the products: GELU, LayerNorm (alone and fused with the residual add),
// the softmax rows of attention, AdamW and the exp rows of cross-entropy.
//
// These are the plain C++ loops the op files had, vectorised by the compiler for this file's ISA.
// Sums are not reordered except in the `omp simd` reductions (fixed lanes per ISA) and LayerNorm's row
// sums (16 fixed partial sums on every ISA: lane_sum), so every path is independent of the thread count.
// These files are compiled with -ffp-contract=off (CMakeLists.txt): only the FMAs written out (std::fma,
// intrinsics) are fused, so GELU, LayerNorm (forward and backward, alone or fused with the residual add)
// and AdamW give the same bits on every path (AdamW PyTorch's); the paths differ in the `omp simd`
// reductions (softmax and cross-entropy row sums: vector width) and in the SGEMMs' blocking.
#pragma once

#if !defined(GPT_KERNEL_NS) || !defined(GPT_KERNEL_PATH)
#error "included by kernels_impl.h only, inside gpt::kernels::GPT_KERNEL_NS's anonymous namespace"
#endif

// GELU (tanh approximation in its σ form; autograd/ops/gelu.cpp explains the formulas): one value and
// its derivative, the one place they are written (gelu's loops and linear_gelu's backward call them).
constexpr float kSqrt2OverPi = 0.7978845608028654f;
constexpr float kCubic = 0.044715f;
constexpr float kMaxExponent = 80.0f;

[[gnu::always_inline]] inline float gelu_value(float v) {
    const float u = kSqrt2OverPi * (v + kCubic * v * v * v);
    const float e = -2.0f * u;
    return v / (1.0f + fast_math::exp(kMaxExponent < e ? kMaxExponent : e));  // std::min(e, kMax)
}

// dy·gelu'(v).
[[gnu::always_inline]] inline float gelu_grad(float v, float dy) {
    const float u = kSqrt2OverPi * (v + kCubic * v * v * v);
    const float m2u = -2.0f * u;
    const float e = fast_math::exp(kMaxExponent < m2u ? kMaxExponent : m2u);
    const float sig = 1.0f / (1.0f + e);
    const float du_dx = kSqrt2OverPi * (1.0f + 3.0f * kCubic * v * v);
    return dy * (sig + 2.0f * v * sig * (e * sig) * du_dx);
}

void gelu_forward(const float* in, float* y, int64_t n) {
#pragma omp parallel for simd schedule(static) if (n >= kElementwiseParallel)
    for (int64_t i = 0; i < n; ++i) y[i] = gelu_value(in[i]);
}

// dx = (assign) or += dy·gelu'(x): one loop per case, so that assigning never reads dx.
template <bool Add>
void gelu_backward_loop(const float* xs, const float* dy, float* dx, int64_t count) {
#pragma omp parallel for simd schedule(static) if (count >= kElementwiseParallel)
    for (int64_t i = 0; i < count; ++i) {
        const float d = gelu_grad(xs[i], dy[i]);
        dx[i] = Add ? dx[i] + d : d;
    }
}

void gelu_backward(const float* xs, const float* dy, float* dx, int64_t count, bool assign) {
    assign ? gelu_backward_loop<false>(xs, dy, dx, count) : gelu_backward_loop<true>(xs, dy, dx, count);
}

// linear_gelu's backward pass: d = dy·gelu'(pre) written to dpre, and db[j] += Σ_rows d[·, j] in the same
// pass (the bias gradient linear's backward sums with a second read of d). Split by blocks of `block`
// columns, each block walking every row in order: each db[j] gets linear's additions in linear's order
// (autograd/ops/parallel.h for_column_blocks), so the bits are those of gelu's backward then linear's.
void gelu_backward_columns(const float* pre, const float* dy, float* dpre, float* db, int64_t rows, int64_t cols,
                           int64_t block, bool parallel) {
    const int64_t blocks = (cols + block - 1) / block;
#pragma omp parallel for schedule(static) if (parallel)
    for (int64_t b = 0; b < blocks; ++b) {
        const int64_t c0 = b * block, width = std::min(block, cols - c0);
        for (int64_t r = 0; r < rows; ++r) {
            const int64_t at = r * cols + c0;
            const float* p = pre + at;
            const float* g = dy + at;
            float* d = dpre + at;
            if (db) {
                float* sum = db + c0;
#pragma omp simd
                for (int64_t j = 0; j < width; ++j) {
                    d[j] = gelu_grad(p[j], g[j]);
                    sum[j] += d[j];
                }
            } else {
#pragma omp simd
                for (int64_t j = 0; j < width; ++j) d[j] = gelu_grad(p[j], g[j]);
            }
        }
    }
}

// Σ_{c < n} term(c) in a fixed order whatever the ISA: kSumLanes partial sums (term c goes to partial
// c mod kSumLanes, in index order), then added pairwise (partial j += partial j + 8, then + 4, + 2, + 1).
// 16 partials are one zmm on AVX-512, two ymm on AVX2, four xmm on SSE2 doing the same additions, so
// LayerNorm keeps the same bits on every path; and 16 independent chains where one chain of n dependent
// scalar adds (4 cycles each) made LayerNorm latency bound: its forward and backward took 3.3 and 2.4 %
// of baby's cycles, most of them waiting on vaddss (perf annotate, 1 thread).
constexpr int64_t kSumLanes = 16;

template <class Term>
[[gnu::always_inline]] inline float lane_sum(int64_t n, Term term) {
    float lane[kSumLanes] = {};
    int64_t c = 0;
    for (; c + kSumLanes <= n; c += kSumLanes)
        for (int64_t j = 0; j < kSumLanes; ++j) lane[j] += term(c + j);
    for (int64_t j = 0; c + j < n; ++j) lane[j] += term(c + j);
    for (int64_t width = kSumLanes / 2; width > 0; width /= 2)
        for (int64_t j = 0; j < width; ++j) lane[j] += lane[j + width];
    return lane[0];
}

// LayerNorm of one row of C into out_row (autograd/ops/layer_norm.cpp gives the maths), its mean and rstd
// into *mean_out and *rstd_out. The one place the forward is written: layer_norm and add_layer_norm.
[[gnu::always_inline]] inline void layer_norm_row(const float* row, const float* w, const float* b, float* out_row,
                                                  int64_t C, float eps, float* mean_out, float* rstd_out) {
    const float m = lane_sum(C, [row](int64_t c) { return row[c]; }) / static_cast<float>(C);
    // Two-pass variance: the row is in cache, and it avoids E[x²] − m² cancellation.
    const float sq = lane_sum(C, [row, m](int64_t c) {
        const float d = row[c] - m;
        return d * d;
    });
    const float s = 1.0f / std::sqrt(sq / static_cast<float>(C) + eps);
    if (w && b) {
        for (int64_t c = 0; c < C; ++c) out_row[c] = (row[c] - m) * s * w[c] + b[c];
    } else {
        for (int64_t c = 0; c < C; ++c) {
            const float norm = (row[c] - m) * s;
            out_row[c] = norm * (w ? w[c] : 1.0f) + (b ? b[c] : 0.0f);
        }
    }
    *mean_out = m;
    *rstd_out = s;
}

void layer_norm_forward(const float* xs, const float* w, const float* b, float* y, float* mean_out, float* rstd_out,
                        int64_t N, int64_t C, float eps) {
#pragma omp parallel for schedule(static) if (N * C >= kElementwiseParallel)
    for (int64_t n = 0; n < N; ++n) layer_norm_row(xs + n * C, w, b, y + n * C, C, eps, mean_out + n, rstd_out + n);
}

// The residual add fused with the LayerNorm that reads it (add_layer_norm in layer_norm.cpp): per row,
// s = x + y is written and normalised while it is in L1, instead of an add writing s and a LayerNorm
// reading it back: one pass over [N, C] fewer, the same bits as add then layer_norm.
void add_layer_norm_forward(const float* x, const float* y, const float* w, const float* b, float* s, float* out,
                            float* mean_out, float* rstd_out, int64_t N, int64_t C, float eps) {
#pragma omp parallel for schedule(static) if (N * C >= kElementwiseParallel)
    for (int64_t n = 0; n < N; ++n) {
        const float* xr = x + n * C;
        const float* yr = y + n * C;
        float* sr = s + n * C;
        for (int64_t c = 0; c < C; ++c) sr[c] = xr[c] + yr[c];
        layer_norm_row(sr, w, b, out + n * C, C, eps, mean_out + n, rstd_out + n);
    }
}

// out = or += v over n floats: the two ways a gradient target is written (Grads::target).
[[gnu::always_inline]] inline void store_or_add(float* out, const float* v, int64_t n, bool add) {
    if (add) {
        for (int64_t c = 0; c < n; ++c) out[c] = out[c] + v[c];
    } else {
        for (int64_t c = 0; c < n; ++c) out[c] = v[c];
    }
}

// LayerNorm's backward over N rows of C, beside its forward (layer_norm.cpp gives the maths), and with
// add_layer_norm the residual add's before it, in the same pass:
//   d    = rstd·(g − mean_c(g) − norm·mean_c(g ⊙ norm)),  g = w ⊙ dy   (dy null: no gradient reached the
//          norm, d = 0 and dw, db get nothing)
//   d   += dres                      (add_layer_norm: what the sum received from its other readers)
//   dx   = or += d,  dx2 = or += d   (the add's two operands; dx2 null for layer_norm; either may be null)
//   dw  += Σ_n norm ⊙ dy,  db += Σ_n dy   (either may be null)
// The sums over rows go through fixed chunks of kLayerNormRowChunk rows added in chunk order: the same
// additions for any thread count. With dres, d is dres + the LayerNorm term, as add then layer_norm give
// it (layer_norm adds its term into the sum's gradient, the add copies that to both operands).
constexpr int64_t kLayerNormRowChunk = 32;

void layer_norm_backward_rows(const float* x, const float* w, const float* mean, const float* rstd, const float* dy,
                              const float* dres, float* dx, bool dx_add, float* dx2, bool dx2_add, float* dw,
                              float* db, int64_t N, int64_t C, bool parallel) {
    // dw and db sum over all N rows. Rows are taken in fixed chunks of kLayerNormRowChunk (not one share per
    // thread), each chunk's sums go to its own partial, and the partials are added in chunk order:
    // the same additions in the same order for any thread count.
    const int64_t chunks = (N + kLayerNormRowChunk - 1) / kLayerNormRowChunk;
    const bool params = dy && (dw || db);
    std::vector<float> partial(params ? static_cast<size_t>(chunks) * 2 * static_cast<size_t>(C) : 0, 0.0f);

#pragma omp parallel if (parallel)
    {
        std::vector<float> scratch(static_cast<size_t>(C));  // d, when no target can hold it
#pragma omp for schedule(static)
        for (int64_t chunk = 0; chunk < chunks; ++chunk) {
            float* pw = params ? partial.data() + static_cast<size_t>(chunk) * 2 * static_cast<size_t>(C) : nullptr;
            float* pb = pw ? pw + C : nullptr;
            for (int64_t n = chunk * kLayerNormRowChunk; n < std::min(N, (chunk + 1) * kLayerNormRowChunk); ++n) {
                float* dx_row = dx ? dx + n * C : nullptr;
                float* dx2_row = dx2 ? dx2 + n * C : nullptr;
                // d goes straight into a target that is assigned, else into scratch and is then added.
                const bool d_in_dx = dx && !dx_add, d_in_dx2 = !d_in_dx && dx2 && !dx2_add;
                float* d_row = d_in_dx ? dx_row : d_in_dx2 ? dx2_row : scratch.data();
                const float* d_done = d_row;  // where d ends up (dres itself when the norm got no gradient)
                if (!dy) {  // d = dres, or 0 when no gradient at all came (the tape never calls so)
                    if (!dres) std::fill_n(scratch.data(), C, 0.0f);
                    d_done = dres ? dres + n * C : scratch.data();
                    if (d_row != scratch.data()) {
                        store_or_add(d_row, d_done, C, false);
                        d_done = d_row;
                    }
                } else {
                    const float* row = x + n * C;
                    const float* dout = dy + n * C;
                    const float mn = mean[n];
                    const float sn = rstd[n];
                    // Σ g and Σ g ⊙ norm; the weight's presence decided outside the sums, which are
                    // vectorised only without a branch inside (a missing weight is 1: the same bits).
                    float g_sum = 0.0f, g_norm_sum = 0.0f;
                    auto sums = [&](auto weight) {
                        g_sum = lane_sum(C, [&](int64_t c) { return weight(c) * dout[c]; });
                        g_norm_sum = lane_sum(C, [&](int64_t c) { return weight(c) * dout[c] * ((row[c] - mn) * sn); });
                    };
                    if (w)
                        sums([w](int64_t c) { return w[c]; });
                    else
                        sums([](int64_t) { return 1.0f; });
                    if (pw) {
                        for (int64_t c = 0; c < C; ++c) {
                            const float norm = (row[c] - mn) * sn;
                            pw[c] += norm * dout[c];
                            pb[c] += dout[c];
                        }
                    }
                    const float g_mean = g_sum / static_cast<float>(C);
                    const float g_norm_mean = g_norm_sum / static_cast<float>(C);
                    if (!dx && !dx2) continue;
                    if (dres) {
                        const float* res = dres + n * C;
                        for (int64_t c = 0; c < C; ++c) {
                            const float norm = (row[c] - mn) * sn;
                            const float g = (w ? w[c] : 1.0f) * dout[c];
                            d_row[c] = res[c] + sn * (g - g_mean - norm * g_norm_mean);
                        }
                    } else {
                        for (int64_t c = 0; c < C; ++c) {
                            const float norm = (row[c] - mn) * sn;
                            const float g = (w ? w[c] : 1.0f) * dout[c];
                            d_row[c] = sn * (g - g_mean - norm * g_norm_mean);
                        }
                    }
                }
                if (dx && !d_in_dx) store_or_add(dx_row, d_done, C, dx_add);
                if (dx2 && !d_in_dx2) store_or_add(dx2_row, d_done, C, dx2_add);
            }
        }
        if (params) {
            // Reduce the chunk sums, each column by one thread, adding chunks in order.
#pragma omp for schedule(static)
            for (int64_t c = 0; c < C; ++c) {
                float sw = 0.0f;
                float sb = 0.0f;
                for (int64_t k = 0; k < chunks; ++k) {
                    const float* pk = partial.data() + static_cast<size_t>(k) * 2 * static_cast<size_t>(C);
                    sw += pk[c];
                    sb += pk[C + c];
                }
                if (dw) dw[c] += sw;
                if (db) db[c] += sb;
            }
        }
    }
}

void layer_norm_backward(const float* x, const float* w, const float* mean, const float* rstd, const float* dy,
                         float* dx, bool dx_add, float* dw, float* db, int64_t N, int64_t C, bool parallel) {
    layer_norm_backward_rows(x, w, mean, rstd, dy, nullptr, dx, dx_add, nullptr, false, dw, db, N, C, parallel);
}

void add_layer_norm_backward(const float* s, const float* w, const float* mean, const float* rstd, const float* dnorm,
                             const float* dsum, float* dx, bool dx_add, float* dy, bool dy_add, float* dw, float* db,
                             int64_t N, int64_t C, bool parallel) {
    layer_norm_backward_rows(s, w, mean, rstd, dnorm, dsum, dx, dx_add, dy, dy_add, dw, db, N, C, parallel);
}

void softmax_causal_row(float* s, int64_t i, int64_t end, float scale) {
    float max = -INFINITY;
    for (int64_t j = 0; j <= i; ++j) {
        s[j] *= scale;
        max = s[j] > max ? s[j] : max;
    }
    float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
    for (int64_t j = 0; j <= i; ++j) {
        s[j] = fast_math::exp(s[j] - max);
        sum += s[j];
    }
    const float inv_sum = 1.0f / sum;
#pragma omp simd
    for (int64_t j = 0; j <= i; ++j) s[j] *= inv_sum;
    for (int64_t j = i + 1; j < end; ++j) s[j] = 0.0f;
}

// As softmax_causal_row over keys 0..n−1, with padded keys set to −∞ before the max so that exp gives
// exactly 0 for them (fast_math::exp returns 0 below −87.3). When every key is padded the max stays −∞
// and the row is defined as zeros (no key to attend to), not the NaN of −∞ − (−∞).
void softmax_padded_row(float* s, const uint8_t* padded, int64_t n, int64_t end, float scale) {
    float max = -INFINITY;
    for (int64_t j = 0; j < n; ++j) {
        s[j] = padded[j] ? -INFINITY : s[j] * scale;
        max = s[j] > max ? s[j] : max;
    }
    if (max == -INFINITY) {
        for (int64_t j = 0; j < end; ++j) s[j] = 0.0f;
        return;
    }
    float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
    for (int64_t j = 0; j < n; ++j) {
        s[j] = fast_math::exp(s[j] - max);
        sum += s[j];
    }
    const float inv_sum = 1.0f / sum;
#pragma omp simd
    for (int64_t j = 0; j < n; ++j) s[j] *= inv_sum;
    for (int64_t j = n; j < end; ++j) s[j] = 0.0f;
}

// PyTorch's AdamW sequence with its fmas (optim/adamw.cpp explains it). On the portable path std::fma
// is libm's (exact, hardware FMA where the CPU has it), so every path gives PyTorch's bits.
void adamw_update(float* p, const float* g, float* m, float* v, int64_t n, const AdamWScalars& s) {
#pragma omp parallel for schedule(static) if (n >= 32768)
    for (int64_t i = 0; i < n; ++i) {
        const float gi = g[i] * s.grad_scale;  // clip_grad_norm_'s g.mul_(coef), same rounding; × 1 is exact
        const float pi = p[i] * s.decay;
        const float mi = std::fma(gi, s.one_minus_beta1, m[i] * s.beta1);
        const float vi = std::fma(s.one_minus_beta2 * gi, gi, v[i] * s.beta2);
        const float denom = std::sqrt(vi) / s.bias_correction2_sqrt + s.eps;
        m[i] = mi;
        v[i] = vi;
        p[i] = pi + s.neg_step_size * mi / denom;
    }
}

float row_sum_exp(const float* x, int64_t n, float shift) {
    float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
    for (int64_t j = 0; j < n; ++j) sum += fast_math::exp(x[j] - shift);
    return sum;
}

void row_add_scaled_exp(const float* x, int64_t n, float shift, float scale, float* out) {
#pragma omp simd
    for (int64_t j = 0; j < n; ++j) out[j] += scale * fast_math::exp(x[j] - shift);
}

