// The machine's fp32 ceiling, measured: `gpt_bench peak --threads N` runs a loop of independent FMAs
// (no memory traffic) on every thread and reports GFLOP/s for 256-bit (AVX2+FMA) and, where the CPU has
// it, 512-bit (AVX-512) vectors. bench/run.py divides a side's GFLOP/s by the ceiling of the ISA it
// runs, so "% of peak" is measured on the machine at hand instead of taken from a data sheet.
#pragma once

namespace gpt::bench {

// GFLOP/s of `threads` threads each running FMAs on `bits`-wide vectors (256 or 512), best of a few runs.
// 0 when the CPU lacks the ISA.
double peak_gflops(int bits, int threads);

int run_peak(int threads);

}  // namespace gpt::bench
